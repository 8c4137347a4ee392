package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var sandboxScreenshot = flag.String("sandbox.screenshot", "", "write a screenshot of the sandbox web chat, side by side, to this PNG file (README: docs/sandbox-chat.png)")

// chromium finds Debian's chromium. Without it the test is skipped on a
// developer's machine and fails under CI=true: the browser test must run
// there.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and CI=true: the browser test must run (scripts/install-deps.sh installs Debian's chromium)")
	}
	t.Skip("chromium not installed (make test installs it)")
	return ""
}

// browserPage is one tab of the sandbox, showing one person's phone.
type browserPage struct {
	t      *testing.T
	ctx    context.Context
	person int64
	name   string
}

// phone is the CSS selector of the page's phone, followed by sel.
func (p *browserPage) phone(sel string) string {
	return fmt.Sprintf(`.phone[data-person="%d"] %s`, p.person, sel)
}

func (p *browserPage) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s tab: %s: %v", p.name, what, err)
	}
}

// jsString quotes s for JavaScript (JSON strings are JavaScript strings).
func jsString(s string) string {
	return fmt.Sprintf("%q", s)
}

// waitText waits for a message in the chat whose text contains substr and
// returns that text.
func (p *browserPage) waitText(substr string) string {
	p.t.Helper()
	js := fmt.Sprintf(`(() => {
		const ms = [...document.querySelectorAll(%s)].filter(m => m.textContent.includes(%s));
		return ms.length ? ms[ms.length - 1].textContent : "";
	})()`, jsString(p.phone(".msg")), jsString(substr))
	text, err := chromedp.Run(p.ctx, chromedp.Poll[string](js, chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		p.t.Fatalf("%s tab: wait for a message with %q: %v", p.name, substr, err)
	}
	return text
}

// press clicks the button labelled with button under the last message that
// contains msg, as a person does.
func (p *browserPage) press(msg, button string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => {
		const ms = [...document.querySelectorAll(%s)].filter(m => m.querySelector(".bubble").textContent.includes(%s));
		if (!ms.length) return false;
		const b = [...ms[ms.length - 1].querySelectorAll(".inline-kb button")].find(b => b.textContent.includes(%s) && !b.disabled);
		if (!b) return false;
		b.click();
		return true;
	})()`, jsString(p.phone(".msg")), jsString(msg), jsString(button))
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		p.t.Fatalf("%s tab: press %q under %q: %v", p.name, button, msg, err)
	}
}

// send types text into the chat's input and presses Enter.
func (p *browserPage) send(text string) {
	p.t.Helper()
	p.run("send "+text,
		chromedp.SendKeys(chromedp.CSS(p.phone("textarea.input")), text),
		chromedp.Click(chromedp.CSS(p.phone(".send-btn"))),
	)
}

// upload chooses a file in the photo picker, as "📎 → Photo" does.
func (p *browserPage) upload(path string) {
	p.t.Helper()
	p.run("upload "+filepath.Base(path), chromedp.SetUploadFiles(chromedp.CSS(p.phone("input.file-photo")), []string{path}))
}

func (p *browserPage) screenshot(path string) error {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// The sandbox in a real browser: the pensioner certifies on the green
// channel in one tab (the sample card photo read by tesseract, a portrait
// for the face), a staff member approves in another, and the pensioner's
// tab shows the result. Everything goes through the web chat, the Bot API
// emulator and the real program.
func TestSandboxInBrowser(t *testing.T) {
	chrome := chromium(t)
	if _, err := exec.LookPath("tesseract"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("tesseract not installed (make test installs it)")
	}
	started := time.Now()
	const db = 40
	redisSrv.Client(t, db)
	logs := &syncBuffer{}
	env := map[string]string{
		"SANDBOX_LISTEN":    "127.0.0.1:0",
		"SANDBOX_REDIS_URL": redisSrv.URL(db),
		"OCR":               "tesseract",
	}
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := NewSandbox(ctx, func(k string) string { return env[k] },
		slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sb.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sandbox run: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("sandbox did not stop")
		}
		if t.Failed() {
			t.Logf("program log:\n%s", logs.String())
		}
	})

	face := filepath.Join(t.TempDir(), "face.jpg")
	if err := os.WriteFile(face, pigoSample(t), 0o644); err != nil {
		t.Fatal(err)
	}
	card, err := filepath.Abs(filepath.Join("..", "..", "testdata", "cards", "li_jianguo_photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		// A fake microphone (a beep) and camera, allowed without asking.
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1320, 940),
	)
	bctx, bcancel := context.WithTimeout(context.Background(), 4*time.Minute)
	actx, acancel := chromedp.NewExecAllocator(bctx, opts...)
	pctx, pcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { pcancel(); acancel(); bcancel() })
	// The first run starts the browser; a context made from it afterwards is
	// a second tab in the same browser.
	if err := chromedp.Do(pctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	sctx, scancel := chromedp.NewContext(pctx)
	t.Cleanup(scancel)
	pens := &browserPage{t: t, ctx: pctx, person: 1001, name: "pensioner"}
	staff := &browserPage{t: t, ctx: sctx, person: 9001, name: "staff"}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		dir := filepath.Join(os.TempDir(), "pensionbot-browser-test")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Logf("screenshots: %v", err)
			return
		}
		for _, p := range []*browserPage{pens, staff} {
			path := filepath.Join(dir, fmt.Sprintf("%s-%s.png", time.Now().Format("20060102-150405"), p.name))
			if err := p.screenshot(path); err != nil {
				t.Logf("screenshot of the %s tab: %v", p.name, err)
				continue
			}
			t.Logf("screenshot of the %s tab on failure: %s", p.name, path)
		}
	})

	// The staff member starts the bot first, so that it may tell them of
	// new cases.
	staff.run("open", chromedp.Navigate(sb.URL+"?person=9001"), chromedp.WaitVisible(chromedp.CSS(staff.phone(".composer"))))
	banner, err := chromedp.Run(staff.ctx, chromedp.Text(chromedp.CSS(".topbar .badge")))
	if err != nil || banner != "SANDBOX" {
		t.Fatalf("page not marked as the sandbox: %q", banner)
	}
	staff.send("/start")
	staff.press("language", "English")
	staff.waitText("What would you like")

	pens.run("open", chromedp.Navigate(sb.URL+"?person=1001"), chromedp.WaitVisible(chromedp.CSS(pens.phone(".composer"))))
	pens.send("/start")
	pens.press("请选择语言", "简体中文")
	// The command menu is the one set for Chinese.
	pens.run("open the command menu", chromedp.Click(chromedp.CSS(pens.phone(".menu-btn"))))
	menu, err := chromedp.Run(pens.ctx, chromedp.Text(chromedp.CSS(pens.phone(`.menu-panel button[data-command="certify"]`))))
	pens.run("close the command menu", chromedp.Click(chromedp.CSS(pens.phone(".menu-btn"))))
	if err != nil || !strings.Contains(menu, "办理年度认证") {
		t.Fatalf("command menu not in Chinese: %q", menu)
	}
	pens.press("您想办什么", "马上认证")
	pens.press("您同意吗", "同意")
	pens.waitText("身份证正面的照片")
	pens.upload(card)
	confirm := pens.waitText("我从身份证上读到")
	if !strings.Contains(confirm, "李建国") || !strings.Contains(confirm, "53010219200508011X") {
		t.Fatalf("name and number not shown for confirmation: %q", confirm)
	}
	pens.press("我从身份证上读到", "对")
	pens.waitText("手机号")
	pens.run("share the contact", chromedp.Click(chromedp.CSS(pens.phone(`.reply-keyboard button[data-request-contact]`))))
	pens.press("户口在哪个区县", "和身份证地址一样")
	pens.press("绿色通道", "走绿色通道")
	pens.press("脸部照片", "同意")
	pens.waitText("正面照")
	pens.upload(face)
	pens.press("发送前请核对", "发送")
	pens.waitText("已发送")
	// The bot deleted the card photo from the chat, and the page shows it.
	pens.waitText("Your message was deleted by the bot (photo)")

	staff.waitText("new case is waiting")
	staff.send("/review")
	caseText := staff.waitText("Case for review")
	// The text shows the number masked: the card photo above it shows the
	// number to whoever compares (see TestCertificationEndToEnd).
	if !strings.Contains(caseText, "530102********011X") || strings.Contains(caseText, "53010219200508011X") {
		t.Fatalf("staff must see the number masked: %q", caseText)
	}
	staff.press("Case for review", "Approve")
	staff.waitText("Approved")

	result := pens.waitText("认证成功")
	if !strings.Contains(result, "有效期到") {
		t.Fatalf("result without validity: %q", result)
	}
	t.Logf("certified and approved in the browser in %v", time.Since(started).Round(time.Millisecond))

	// A voice note recorded in the browser reaches the bot as Telegram's
	// voice notes do: Opus in Ogg.
	pens.run("record a voice note",
		chromedp.Click(chromedp.CSS(pens.phone(".mic-btn"))),
		chromedp.WaitVisible(chromedp.CSS(pens.phone(".recording"))),
		chromedp.Sleep(1500*time.Millisecond),
		chromedp.Click(chromedp.CSS(pens.phone(".rec-send"))),
	)
	src, err := chromedp.Run(pens.ctx, chromedp.Poll[string](
		fmt.Sprintf(`(document.querySelector(%s) || {}).src || ""`, jsString(pens.phone(`.msg.me[data-kind="voice"] audio`))),
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("voice note not shown: %v", err)
	}
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	voice, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(voice, []byte("OggS")) || !bytes.Contains(voice[:100], []byte("OpusHead")) {
		t.Fatalf("voice note is not Ogg Opus: %q…", voice[:min(len(voice), 40)])
	}

	if *sandboxScreenshot != "" {
		pens.run("show side by side",
			chromedp.Click(chromedp.CSS(`#people-tabs button[data-which="all"]`)),
			chromedp.Sleep(500*time.Millisecond),
		)
		if err := pens.screenshot(*sandboxScreenshot); err != nil {
			t.Fatalf("screenshot: %v", err)
		}
	}
}
