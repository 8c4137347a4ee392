package bot

import (
	"context"
	"fmt"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/locales"
)

// SetCommands publishes the command menu in every language. Telegram keys
// command lists by two-letter language code, so Traditional Chinese
// clients share "zh" with Simplified unless the default language is
// Traditional.
func (b *Bot) SetCommands(ctx context.Context) error {
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
		for _, c := range b.engine.Commands() {
			desc, err := b.catalog.Text(render, "cmd."+c, nil)
			if err != nil {
				return fmt.Errorf("command /%s in %s: %w", c, render, err)
			}
			cmds = append(cmds, models.BotCommand{Command: c, Description: desc})
		}
		err := b.retry(ctx, "setMyCommands", func(ctx context.Context) error {
			_, err := b.tg.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: cmds, LanguageCode: code})
			return err
		})
		if err != nil {
			return fmt.Errorf("set commands for %q: %w", code, err)
		}
	}
	return nil
}
