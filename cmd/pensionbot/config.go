package main

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // TIME_ZONE works on machines without a zone database

	"pensionbot/locales"
	"pensionbot/secret"
)

// Config is everything the program reads from its environment.
type Config struct {
	Token           string
	APIURL          string
	RedisURL        string
	RedisMasterName string
	DataKey         *secret.Sealer
	DefaultLanguage string
	StaffIDs        []int64
	WebhookURL      string
	WebhookListen   string
	WebhookSecret   string
	AdminListen     string
	LogLevel        string
	LogFormat       string
	IdleTTL         time.Duration
	// OpenAI-compatible service (any server that speaks its API).
	OpenAIBaseURL   string
	OpenAIKey       string
	OpenAIModel     string
	TranscribeModel string
	// Answerer is "llm" or "faq" after resolving "auto".
	Answerer string
	// Certification.
	OCR          string // auto, vision, tesseract, none
	Verifier     string // review, agency, vision
	VisionModel  string
	AgencyURL    string
	AgencyToken  string
	GreenAge     int
	PhotoTTL     time.Duration
	DeletePhotos bool
	// Failpoint stops the process at a named point (fault tests only).
	Failpoint string
	// Family help: relatives per account besides the person (0 = off).
	FamilyMax int
	// TimeZone is where dates are shown (certified on, valid until).
	TimeZone *time.Location
	// Reminders and broadcasts (see notify.go).
	Notify NotifyConfig
}

// tokenShape is what @BotFather hands out: the bot's numeric ID, a colon,
// and a secret of 35 characters (30 or more accepted, in case Telegram
// lengthens it).
var tokenShape = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]{30,}$`)

// configError names the variable at fault and how to fix it; main prints it
// as one line and exits with status 2.
type configError struct{ name, problem string }

func (e *configError) Error() string { return e.name + ": " + e.problem }

// LoadConfig reads the configuration through getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Token:           get("TELEGRAM_BOT_TOKEN", ""),
		APIURL:          strings.TrimRight(get("TELEGRAM_API_URL", "https://api.telegram.org"), "/"),
		RedisURL:        get("REDIS_URL", "redis://127.0.0.1:6379/0"),
		RedisMasterName: get("REDIS_MASTER_NAME", ""),
		DefaultLanguage: get("DEFAULT_LANGUAGE", locales.Default),
		WebhookURL:      get("WEBHOOK_URL", ""),
		WebhookListen:   get("WEBHOOK_LISTEN", ":8443"),
		WebhookSecret:   get("WEBHOOK_SECRET", ""),
		AdminListen:     get("ADMIN_LISTEN", ""),
		LogLevel:        strings.ToLower(get("LOG_LEVEL", "info")),
		LogFormat:       strings.ToLower(get("LOG_FORMAT", "json")),
	}
	if c.Token == "" {
		return c, &configError{"TELEGRAM_BOT_TOKEN", "not set. Create a bot with @BotFather in Telegram (/newbot), then export TELEGRAM_BOT_TOKEN=<the token it gives you>"}
	}
	if !tokenShape.MatchString(c.Token) {
		return c, &configError{"TELEGRAM_BOT_TOKEN", "does not look like a bot token (digits, a colon, then 30 or more letters, digits, _ or -, as in 123456789:AAH…); copy it again from @BotFather"}
	}
	api, err := url.Parse(c.APIURL)
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" {
		return c, &configError{"TELEGRAM_API_URL", "must be an http(s) URL such as https://api.telegram.org"}
	}
	if _, err := redisOptions(c.RedisURL, c.RedisMasterName); err != nil {
		return c, &configError{"REDIS_URL", err.Error() + " (for example redis://127.0.0.1:6379/0)"}
	}
	key := get("DATA_KEY", "")
	if key == "" {
		return c, &configError{"DATA_KEY", "not set. It encrypts personal data at rest: create one with `openssl rand -base64 32` (make run creates .data/data.key for local use)"}
	}
	sealer, err := secret.Parse(key)
	if err != nil {
		return c, &configError{"DATA_KEY", err.Error() + "; create one with `openssl rand -base64 32`"}
	}
	c.DataKey = sealer
	if !locales.IsSupported(c.DefaultLanguage) {
		return c, &configError{"DEFAULT_LANGUAGE", fmt.Sprintf("%q is not supported; use one of %s", c.DefaultLanguage, strings.Join(locales.Supported, ", "))}
	}
	for _, part := range strings.Split(get("STAFF_IDS", ""), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil || id <= 0 {
			return c, &configError{"STAFF_IDS", fmt.Sprintf("%q is not a Telegram user ID; give numbers separated by commas", part)}
		}
		c.StaffIDs = append(c.StaffIDs, id)
	}
	if c.WebhookURL != "" {
		// Telegram's own Bot API posts only to https; a self-hosted Bot API
		// server (TELEGRAM_API_URL) may post to http, on its own network.
		selfHosted := !strings.EqualFold(api.Hostname(), "api.telegram.org")
		u, err := url.Parse(c.WebhookURL)
		switch {
		case err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
			return c, &configError{"WEBHOOK_URL", "must be the public https URL Telegram posts updates to, such as https://bot.example.org/hook"}
		case u.Scheme == "http" && !selfHosted:
			return c, &configError{"WEBHOOK_URL", "must start with https://: Telegram posts updates only to https (http works only with a self-hosted Bot API server in TELEGRAM_API_URL)"}
		}
		if len(c.WebhookSecret) < 16 || len(c.WebhookSecret) > 256 || strings.Trim(c.WebhookSecret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
			return c, &configError{"WEBHOOK_SECRET", "needed with WEBHOOK_URL: 16–256 characters of A-Z a-z 0-9 _ - (for example `openssl rand -hex 32`)"}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, &configError{"LOG_LEVEL", "use debug, info, warn or error"}
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return c, &configError{"LOG_FORMAT", "use json or text"}
	}
	days, err := strconv.Atoi(get("IDLE_DAYS", "30"))
	if err != nil || days < 1 || days > 3650 {
		return c, &configError{"IDLE_DAYS", "must be a whole number of days between 1 and 3650"}
	}
	c.IdleTTL = time.Duration(days) * 24 * time.Hour

	c.OpenAIBaseURL = strings.TrimRight(get("OPENAI_BASE_URL", "https://api.openai.com/v1"), "/")
	c.OpenAIKey = get("OPENAI_API_KEY", "")
	c.OpenAIModel = get("OPENAI_MODEL", "")
	c.TranscribeModel = get("OPENAI_TRANSCRIBE_MODEL", "")
	if u, err := url.Parse(c.OpenAIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, &configError{"OPENAI_BASE_URL", "must be an http(s) URL such as https://api.openai.com/v1 or http://127.0.0.1:11434/v1"}
	}
	c.VisionModel = get("OPENAI_VISION_MODEL", c.OpenAIModel)
	c.OCR = strings.ToLower(get("OCR", "auto"))
	switch c.OCR {
	case "auto", "tesseract", "none":
	case "vision":
		if c.VisionModel == "" {
			return c, &configError{"OCR", "vision needs OPENAI_VISION_MODEL or OPENAI_MODEL"}
		}
	default:
		return c, &configError{"OCR", "use auto, vision, tesseract or none"}
	}
	c.Verifier = strings.ToLower(get("VERIFIER", "review"))
	c.AgencyURL, c.AgencyToken = get("AGENCY_URL", ""), get("AGENCY_TOKEN", "")
	switch c.Verifier {
	case "review":
	case "agency":
		if u, err := url.Parse(c.AgencyURL); err != nil || u.Host == "" || c.AgencyToken == "" {
			return c, &configError{"VERIFIER", "agency needs AGENCY_URL (https://…) and AGENCY_TOKEN; see docs/agency-api.md"}
		}
	case "vision":
		if c.VisionModel == "" {
			return c, &configError{"VERIFIER", "vision needs OPENAI_VISION_MODEL or OPENAI_MODEL"}
		}
	default:
		return c, &configError{"VERIFIER", "use review, agency or vision"}
	}
	if c.GreenAge, err = strconv.Atoi(get("GREEN_CHANNEL_AGE", "80")); err != nil || c.GreenAge < 50 || c.GreenAge > 120 {
		return c, &configError{"GREEN_CHANNEL_AGE", "must be a whole number of years between 50 and 120"}
	}
	if c.PhotoTTL, err = time.ParseDuration(get("PHOTO_TTL", "168h")); err != nil || c.PhotoTTL < time.Hour || c.PhotoTTL > 30*24*time.Hour {
		return c, &configError{"PHOTO_TTL", "must be a duration between 1h and 720h, such as 168h (7 days)"}
	}
	// For fault tests: kill the process at a named point (see bot.Options).
	c.Failpoint = get("PENSIONBOT_FAILPOINT", "")
	switch get("DELETE_PHOTO_MESSAGES", "true") {
	case "true", "1", "yes":
		c.DeletePhotos = true
	case "false", "0", "no":
	default:
		return c, &configError{"DELETE_PHOTO_MESSAGES", "use true or false"}
	}
	if c.FamilyMax, err = strconv.Atoi(get("FAMILY_MAX", "8")); err != nil || c.FamilyMax < 0 || c.FamilyMax > 20 {
		return c, &configError{"FAMILY_MAX", "must be a whole number between 0 (family help off) and 20; the official apps allow 8 to 10"}
	}
	tz := get("TIME_ZONE", "Asia/Shanghai")
	if c.TimeZone, err = time.LoadLocation(tz); err != nil || tz == "Local" {
		return c, &configError{"TIME_ZONE", fmt.Sprintf("%q is not an IANA time zone; use a name such as Asia/Shanghai", tz)}
	}
	if c.Notify, err = loadNotify(get, c.TimeZone); err != nil {
		return c, err
	}
	switch a := strings.ToLower(get("ANSWERER", "auto")); a {
	case "auto":
		c.Answerer = "faq"
		if c.OpenAIModel != "" {
			c.Answerer = "llm"
		}
	case "faq":
		c.Answerer = a
	case "llm":
		if c.OpenAIModel == "" {
			return c, &configError{"ANSWERER", "llm needs OPENAI_MODEL (and OPENAI_API_KEY or OPENAI_BASE_URL of a local server)"}
		}
		c.Answerer = a
	default:
		return c, &configError{"ANSWERER", "use auto, llm or faq"}
	}
	return c, nil
}

// isConfigError reports whether err is about the configuration.
func isConfigError(err error) bool {
	var ce *configError
	return errors.As(err, &ce)
}
