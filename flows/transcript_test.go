package flows_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pensionbot/flows"
	"pensionbot/locales"
)

var update = flag.Bool("update", false, "rewrite the expected replies in testdata/transcripts")

// Transcripts are conversations written as text files:
//
//	# a comment
//	hint: zh-TW          (Telegram's language_code, optional)
//	lang: en             (render replies as text in this language, optional)
//	redis: down          (records and the review queue fail; "redis: up")
//	> /start             (a command; "> text hello", "> press lang:en",
//	                      "> stale lang:en" (the message just replaced),
//	                      "> old lang:en" (one further up), "> sticker", "> photo id",
//	                      "> contact +8613800138000 own", "> wait 7h")
//	< lang.ask           (an expected reply: message ID, data, then buttons)
//
// Run `go test ./flows -update` to rewrite the "<" lines from what the
// engine does now, then review the diff.
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/transcripts/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	cat, err := locales.NewCatalog(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file, cat)
		})
	}
}

const person = int64(1001)

func runTranscript(t *testing.T, file string, cat *locales.Catalog) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t)
	var (
		states  = map[int64]*flows.State{}
		hint    string
		lang    string
		now     = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		nextID  = int64(1)
		out     []string // the file as it should be
		want    []string // expected replies of the current input
		got     []string
		flushed = func() {
			if !slices.Equal(want, got) && !*update {
				t.Errorf("%s: replies differ\n--- want\n%s\n--- got\n%s", file, strings.Join(want, "\n"), strings.Join(got, "\n"))
			}
			out = append(out, got...)
			want, got = nil, nil
		}
	)
	stateOf := func(u int64) *flows.State {
		if states[u] == nil {
			states[u] = &flows.State{}
		}
		return states[u]
	}
	// handle applies one input for a user and, like the bot, delivers what
	// the result tells other people (decisions go through their inbox).
	var handle func(user int64, in flows.Input)
	handle = func(user int64, in flows.Input) {
		in.User, in.ID, in.Now = user, nextID, now
		nextID++
		now = now.Add(2 * time.Second)
		st := stateOf(user)
		res := fx.engine.Handle(context.Background(), *st, in)
		*st = res.State
		perform(t, fx.engine, res) // what the dispatcher does after the commit
		prefix := "<"
		if user != person {
			prefix = fmt.Sprintf("<@%d", user)
		}
		if res.Forget {
			got = append(got, prefix+" (forget)")
			fx.verifier.erase(user) // the bot's erase effect
		}
		if res.DeleteInput {
			got = append(got, prefix+" (input deleted)")
		}
		if res.ClearEphemeral {
			got = append(got, prefix+" (ephemeral messages deleted)")
		}
		for _, r := range res.Replies {
			checkRenders(t, cat, r)
			got = append(got, format(prefix, cat, lang, r)...)
		}
		for _, n := range res.Tell {
			if n.Clear {
				got = append(got, fmt.Sprintf("<@%d (ephemeral messages deleted)", n.User))
			}
			switch {
			case n.Decision != nil:
				handle(n.User, flows.Input{Kind: flows.KindDecision, Decision: n.Decision})
			case n.Reply != nil:
				checkRenders(t, cat, *n.Reply)
				got = append(got, format(fmt.Sprintf("<@%d", n.User), cat, lang, *n.Reply)...)
			}
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "<"):
			want = append(want, line)
			continue
		case strings.HasPrefix(line, "  [") && len(want) > 0:
			want = append(want, line)
			continue
		}
		flushed()
		out = append(out, line)
		switch {
		case strings.HasPrefix(line, "hint:"):
			hint = locales.Match(strings.TrimSpace(strings.TrimPrefix(line, "hint:")))
		case strings.HasPrefix(line, "lang:"):
			lang = strings.TrimSpace(strings.TrimPrefix(line, "lang:"))
		case strings.HasPrefix(line, "staff:"):
			var id int64
			fmt.Sscan(strings.TrimPrefix(line, "staff:"), &id)
			fx.staff[id] = true
		case strings.HasPrefix(line, "redis:"):
			// "redis: down" makes records and the review queue fail.
			down := strings.TrimSpace(strings.TrimPrefix(line, "redis:")) == "down"
			fx.photos.mu.Lock()
			fx.photos.down = down
			fx.photos.mu.Unlock()
			fx.verifier.mu.Lock()
			fx.verifier.down = down
			fx.verifier.mu.Unlock()
		case strings.HasPrefix(line, "verifier:"):
			switch v := strings.TrimSpace(strings.TrimPrefix(line, "verifier:")); v {
			case "down":
				fx.verifier.fail = true
			case "up":
				fx.verifier.fail = false
			default:
				fx.verifier.now = v
			}
		case strings.HasPrefix(line, "> wait "):
			d, err := time.ParseDuration(strings.TrimPrefix(line, "> wait "))
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			now = now.Add(d)
		case strings.HasPrefix(line, ">"):
			user, rest := person, strings.TrimSpace(line[1:])
			if strings.HasPrefix(rest, "@") {
				who, r, _ := strings.Cut(rest[1:], " ")
				fmt.Sscan(who, &user)
				rest = r
			}
			in := parseInput(t, rest, *stateOf(user))
			in.LangHint = hint
			handle(user, in)
		}
	}
	flushed()
	if *update {
		if err := os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func parseInput(t *testing.T, s string, st flows.State) flows.Input {
	verb, arg, _ := strings.Cut(s, " ")
	switch {
	case strings.HasPrefix(verb, "/"):
		return flows.Input{Kind: flows.KindCommand, Command: strings.TrimPrefix(verb, "/"), Args: arg, Text: s}
	case verb == "text":
		return flows.Input{Kind: flows.KindText, Text: arg}
	case verb == "press":
		return flows.Input{Kind: flows.KindButton, Action: arg, Turn: st.Turn}
	case verb == "stale": // the message just replaced (a double tap, if soon)
		return flows.Input{Kind: flows.KindButton, Action: arg, Turn: st.Turn - 1}
	case verb == "old": // a message further up
		return flows.Input{Kind: flows.KindButton, Action: arg, Turn: st.Turn - 3}
	case verb == "contact":
		// "> contact +86 138 1234 5678 own" (or "other")
		fields := strings.Fields(arg)
		own := len(fields) > 0 && fields[len(fields)-1] == "own"
		if n := len(fields); n > 0 && (fields[n-1] == "own" || fields[n-1] == "other") {
			fields = fields[:n-1]
		}
		return flows.Input{Kind: flows.KindContact, Contact: &flows.Contact{Phone: strings.Join(fields, " "), Own: own}}
	case verb == "photo" || verb == "document" || verb == "voice" || verb == "video_note":
		// "> photo zhang:ok", "> photo zhang:ok group=g1",
		// "> document card.pdf application/pdf 2048"
		k, _ := flows.ParseKind(verb)
		fields := strings.Fields(arg)
		f := &flows.File{MIME: "image/jpeg"}
		fwd := false
		if len(fields) > 0 {
			f.ID = fields[0]
		}
		for i, fl := range fields[1:] {
			switch {
			case strings.HasPrefix(fl, "group="):
				f.Group = strings.TrimPrefix(fl, "group=")
			case fl == "forwarded":
				fwd = true
			case i == 0 && k == flows.KindDocument:
				f.MIME = fl
			default:
				fmt.Sscan(fl, &f.Size)
			}
		}
		return flows.Input{Kind: k, File: f, Forwarded: fwd}
	case verb == "decision":
		outcome, reason, _ := strings.Cut(arg, " ")
		// The case of whoever on the account has one waiting.
		caseID := ""
		for _, p := range append([]*flows.Person{&st.Me}, st.Family...) {
			if p.Cert != nil && p.Cert.CaseID != "" {
				caseID = p.Cert.CaseID
			}
		}
		return flows.Input{Kind: flows.KindDecision, Decision: &flows.Decision{CaseID: caseID, Outcome: outcome, Reason: reason, By: "staff"}}
	}
	k, ok := flows.ParseKind(verb)
	if !ok {
		t.Fatalf("unknown input %q", s)
	}
	return flows.Input{Kind: k}
}

// format writes a reply as transcript lines: its message ID and data, then
// its buttons; with a language, the rendered text too.
func format(prefix string, cat *locales.Catalog, lang string, r flows.Reply) []string {
	head := prefix + " " + r.ID
	if r.ID == "" {
		head = prefix + " (text) " + r.Text
	}
	if len(r.Data) > 0 {
		var kv []string
		for k, v := range r.Data {
			switch m := v.(type) {
			case flows.Msg:
				v = "@" + m.ID
			case flows.Date:
				v = time.Time(m).Format("2006-01-02")
			case flows.Lines:
				var ids []string
				for _, l := range m {
					ids = append(ids, "@"+l.ID)
				}
				v = "[" + strings.Join(ids, " ") + "]"
			}
			kv = append(kv, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(kv)
		head += " {" + strings.Join(kv, " ") + "}"
	}
	if r.Lang != "" {
		head += " @" + r.Lang
	}
	if lang != "" && r.ID != "" {
		l := lang
		if r.Lang != "" {
			l = r.Lang
		}
		text, _ := cat.Text(l, r.ID, r.Data)
		head += ": " + strings.ReplaceAll(text, "\n", "⏎")
	}
	lines := []string{head}
	for _, row := range r.Buttons {
		var cells []string
		for _, b := range row {
			label := b.Label
			if lang != "" {
				l := lang
				if b.Lang != "" {
					l = b.Lang
				}
				label, _ = cat.Text(l, b.Label, b.Data)
			} else if b.Lang != "" {
				label += "@" + b.Lang
			}
			cells = append(cells, "["+label+" → "+b.Action+"]")
		}
		lines = append(lines, "  "+strings.Join(cells, " "))
	}
	if r.AskContact != "" {
		lines = append(lines, "  [contact: "+r.AskContact+"]")
	}
	if r.RemoveKeyboard {
		lines = append(lines, "  [remove keyboard]")
	}
	if r.PhotoOf != nil {
		lines = append(lines, "  [photo: the case's "+r.PhotoOf.Kind+"]")
	}
	return lines
}

// checkRenders fails when a reply does not render in some language.
func checkRenders(t *testing.T, cat *locales.Catalog, r flows.Reply) {
	t.Helper()
	if r.ID == "" {
		return
	}
	for _, lang := range locales.Supported {
		text, err := cat.Text(lang, r.ID, r.Data)
		if err != nil || strings.Contains(text, "<no value>") {
			t.Errorf("%s does not render in %s: %q %v", r.ID, lang, text, err)
		}
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Verbatim {
					continue
				}
				l := lang
				if b.Lang != "" {
					l = b.Lang
				}
				if text, err := cat.Text(l, b.Label, b.Data); err != nil || strings.Contains(text, "<no value>") {
					t.Errorf("button %s does not render in %s: %v", b.Label, l, err)
				}
			}
		}
	}
}
