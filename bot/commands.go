package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/locales"
)

// SetCommands publishes the command menu in every language: everyone's
// commands for everyone, and in each staff member's own chat the staff
// commands too (/review, /broadcast), so staff need not remember them.
// Telegram keys command lists by two-letter language code, so Traditional
// Chinese clients share "zh" with Simplified unless the default language
// is Traditional.
// formerStaff are chats that had the staff menu and are no longer staff:
// their menu goes back to everyone's.
func (b *Bot) SetCommands(ctx context.Context, formerStaff []int64) error {
	if err := b.setCommands(ctx, b.engine.Commands(), nil); err != nil {
		return err
	}
	all, staff := b.engine.StaffCommands()
	for _, id := range staff {
		if err := b.setCommands(ctx, all, &models.BotCommandScopeChat{ChatID: id}); err != nil {
			return err
		}
	}
	for _, id := range formerStaff {
		for _, code := range append([]string{""}, b.languageCodes()...) {
			err := b.retry(ctx, "deleteMyCommands", func(ctx context.Context) error {
				_, err := b.tg.DeleteMyCommands(ctx, &tg.DeleteMyCommandsParams{Scope: &models.BotCommandScopeChat{ChatID: id}, LanguageCode: code})
				return err
			})
			if err != nil {
				return fmt.Errorf("take the staff menu from a former staff member: %w", err)
			}
		}
	}
	return nil
}

// languageCodes are the two-letter codes command lists are set for.
func (b *Bot) languageCodes() []string {
	var out []string
	for _, lang := range locales.Supported {
		if code := strings.SplitN(lang, "-", 2)[0]; !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out
}

// setCommands publishes one command list in every language, for a scope
// (nil: the default one).
func (b *Bot) setCommands(ctx context.Context, commands []string, scope models.BotCommandScope) error {
	for _, lang := range append([]string{""}, locales.Supported...) {
		render := lang
		code := strings.SplitN(lang, "-", 2)[0]
		switch {
		case lang == "":
			render = b.catalog.Default()
		case lang == "zh-Hant" && b.catalog.Default() != "zh-Hant":
			continue
		case lang == "zh-Hans" && b.catalog.Default() == "zh-Hant":
			continue
		}
		var cmds []models.BotCommand
		for _, c := range commands {
			desc, err := b.catalog.Text(render, "cmd."+c, nil)
			if err != nil {
				return fmt.Errorf("command /%s in %s: %w", c, render, err)
			}
			cmds = append(cmds, models.BotCommand{Command: c, Description: desc})
		}
		err := b.retry(ctx, "setMyCommands", func(ctx context.Context) error {
			_, err := b.tg.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: cmds, Scope: scope, LanguageCode: code})
			return err
		})
		if err != nil {
			return fmt.Errorf("set commands for %q: %w", code, err)
		}
	}
	return nil
}
