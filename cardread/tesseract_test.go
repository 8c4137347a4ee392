package cardread

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pensionbot/internal/cardgen"
	"pensionbot/photo"
)

var (
	tessOnce sync.Once
	tess     *Tesseract
	tessErr  error
)

// needTesseract returns the shared reader. Without tesseract the test is
// skipped on a developer's machine and fails in CI (CI=true), where
// scripts/install-deps.sh must have installed it.
func needTesseract(t testing.TB) *Tesseract {
	t.Helper()
	tessOnce.Do(func() { tess, tessErr = NewTesseract(TesseractOptions{}) })
	if tessErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (run scripts/install-deps.sh)", tessErr)
		}
		t.Skipf("%v (run scripts/install-deps.sh)", tessErr)
	}
	return tess
}

// TestTesseractFixtures reads every card of testdata/cards. Clean cards
// and photos must give the exact number; no card may give a wrong number;
// names must be right on most cards. It logs the accuracy.
func TestTesseractFixtures(t *testing.T) {
	tr := needTesseract(t)
	type result struct {
		f          cardgen.Fixture
		name, num  string
		took       time.Duration
		err        error
		nameOK     bool
		numberOK   bool
		wrongValid bool
	}
	var (
		mu      sync.Mutex
		results []result
	)
	t.Run("cards", func(t *testing.T) {
		for _, f := range cardgen.Fixtures() {
			if f.Variant == cardgen.VariantNotImage {
				continue
			}
			t.Run(f.File, func(t *testing.T) {
				t.Parallel()
				data := fixture(t, f.File)
				start := time.Now()
				got, err := tr.ReadCard(context.Background(), data)
				r := result{f: f, name: got.Name, num: got.Number, took: time.Since(start), err: err,
					nameOK: got.Name == f.Card.Name, numberOK: got.Number == f.Card.Number,
					wrongValid: got.Number != "" && got.Number != f.Card.Number}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if err != nil {
					t.Fatalf("ReadCard: %v", err)
				}
				if r.wrongValid {
					t.Errorf("returned a wrong number that passes the checksum: %s, want %s", got.Number, f.Card.Number)
				}
				if !f.Hard && !r.numberOK {
					t.Errorf("number %q, want %q", got.Number, f.Card.Number)
				}
				if !r.nameOK {
					t.Logf("name %q, want %q", got.Name, f.Card.Name)
				}
			})
		}
	})

	var names, numbers, easy, easyNames int
	var total time.Duration
	var lines []string
	for _, r := range results {
		total += r.took
		if r.nameOK {
			names++
		}
		if r.numberOK {
			numbers++
		}
		if !r.f.Hard {
			easy++
			if r.nameOK {
				easyNames++
			}
		}
		lines = append(lines, fmt.Sprintf("%-26s %-8s number %-5v name %-5v %v", r.f.File, r.f.Variant, r.numberOK, r.nameOK, r.took.Round(time.Millisecond)))
	}
	if len(results) == 0 {
		return
	}
	t.Logf("tesseract on %d fixtures: numbers %d/%d, names %d/%d, mean %v per card (cards read in parallel)\n%s",
		len(results), numbers, len(results), names, len(results), (total / time.Duration(len(results))).Round(time.Millisecond),
		strings.Join(lines, "\n"))
	if easyNames*10 < easy*8 {
		t.Errorf("names right on %d of %d clean cards and photos, want at least 80%%", easyNames, easy)
	}
}

func TestTesseractNotImage(t *testing.T) {
	tr := needTesseract(t)
	_, err := tr.ReadCard(context.Background(), fixture(t, "not_a_card.pdf"))
	if !errors.Is(err, ErrNotImage) {
		t.Fatalf("err = %v, want ErrNotImage", err)
	}
}

func TestTesseractTooLarge(t *testing.T) {
	needTesseract(t)
	tr, err := NewTesseract(TesseractOptions{MaxPixels: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.ReadCard(context.Background(), fixture(t, "wang_wei.jpg"))
	if !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("err = %v, want ErrImageTooLarge", err)
	}
}

// TestTesseractSideways reads a card photographed on its side, as photos
// sent as files with an EXIF orientation arrive: orientation detection
// turns it upright.
func TestTesseractSideways(t *testing.T) {
	tr := needTesseract(t)
	if !contains(tr.langs, "osd") {
		// Debian's tesseract-ocr brings tesseract-ocr-osd along.
		if os.Getenv("CI") == "true" {
			t.Fatal("no osd model: run scripts/install-deps.sh")
		}
		t.Skip("no osd model")
	}
	img, err := decodeImage(fixture(t, "wang_wei.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, rotate90(toGray(img), 90)); err != nil {
		t.Fatal(err)
	}
	got, err := tr.ReadCard(context.Background(), buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != cardgen.WangWei.Number {
		t.Errorf("number %q, want %q", got.Number, cardgen.WangWei.Number)
	}
}

// TestTesseractUpsideDown reads a card photographed upside down and one
// on its other side. Read as they are they give no number and no label,
// so the reader turns them (see readAll).
func TestTesseractUpsideDown(t *testing.T) {
	tr := needTesseract(t)
	img, err := decodeImage(fixture(t, "li_jianguo_photo.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, deg := range []int{180, 270} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, rotate90(toGray(img), deg)); err != nil {
			t.Fatal(err)
		}
		got, err := tr.ReadCard(context.Background(), buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != cardgen.LiJianguo.Number {
			t.Errorf("turned %d°: number %q, want %q", deg, got.Number, cardgen.LiJianguo.Number)
		}
		if got.Name != "" && got.Name != cardgen.LiJianguo.Name {
			t.Errorf("turned %d°: wrong name %q", deg, got.Name)
		}
	}
}

func TestTesseractTimeout(t *testing.T) {
	needTesseract(t)
	tr, err := NewTesseract(TesseractOptions{Timeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.ReadCard(context.Background(), fixture(t, "wang_wei.jpg"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestTesseractLogsNoPersonalData(t *testing.T) {
	needTesseract(t)
	var logs bytes.Buffer
	tr, err := NewTesseract(TesseractOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.ReadCard(context.Background(), fixture(t, "zhang_xiulan.png"))
	if err != nil || got.Number == "" {
		t.Fatalf("got %+v, %v", got, err)
	}
	assertNoPersonalData(t, logs.String())
	if !strings.Contains(logs.String(), "110105********002X") {
		t.Errorf("log lacks the masked number: %s", logs.String())
	}
}

// fakeTesseract writes a shell script standing in for tesseract.
func fakeTesseract(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tesseract")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewTesseractUnavailable(t *testing.T) {
	for name, path := range map[string]string{
		"missing binary": filepath.Join(t.TempDir(), "no-such-tesseract"),
		"no chi_sim":     fakeTesseract(t, "printf 'List of available languages (2):\\neng\\nosd\\n'\n"),
		"broken":         fakeTesseract(t, "echo 'error while loading shared libraries' >&2; exit 127\n"),
	} {
		tr, err := NewTesseract(TesseractOptions{Path: path})
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", name, err)
		}
		if tr.Available() {
			t.Errorf("%s: Available() = true", name)
		}
	}
}

func TestTesseractProcessFails(t *testing.T) {
	path := fakeTesseract(t, `case "$1" in
--list-langs) printf 'List of available languages (3):\nchi_sim\neng\nosd\n' ;;
*) cat >/dev/null; echo 'Error in pixReadMem: Unknown format' >&2; exit 1 ;;
esac
`)
	tr, err := NewTesseract(TesseractOptions{Path: path})
	if err != nil || !tr.Available() {
		t.Fatalf("NewTesseract: %v", err)
	}
	got, err := tr.ReadCard(context.Background(), fixture(t, "zhang_xiulan.png"))
	if err == nil || !strings.Contains(err.Error(), "Unknown format") {
		t.Fatalf("err = %v, want the tesseract failure", err)
	}
	if got.Name != "" || got.Number != "" {
		t.Errorf("got %+v", got)
	}
	assertNoPersonalData(t, err.Error())
}

// BenchmarkTesseractCard measures the time to read one card (ns/op), going
// through the clean cards and photos of testdata/cards one per iteration.
func BenchmarkTesseractCard(b *testing.B) {
	tr := needTesseract(b)
	var cards [][]byte
	for _, f := range cardgen.Fixtures() {
		if f.Variant == cardgen.VariantClean || f.Variant == cardgen.VariantPhoto {
			cards = append(cards, fixture(b, f.File))
		}
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := tr.ReadCard(ctx, cards[i%len(cards)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestMinimumSizeReads ties photo.DefaultLimits to what reads: a photo of
// a card filling most of the frame, at the smallest size the bot accepts,
// gives the exact number.
func TestMinimumSizeReads(t *testing.T) {
	tr := needTesseract(t)
	needFont(t)
	lim := photo.DefaultLimits
	w, h := max(lim.MinWidth, lim.MinHeight), min(lim.MinWidth, lim.MinHeight)
	cards := []cardgen.Card{cardgen.ZhangXiulan, cardgen.WangWei, cardgen.HuangYongfu, cardgen.People[13]}
	var wg sync.WaitGroup
	for _, c := range cards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := cardgen.Render(c)
			if err != nil {
				t.Error(err)
				return
			}
			data, err := cardgen.Shoot(img, cardgen.Shot{Width: w, Height: h, CardShare: 0.85})
			if err != nil {
				t.Error(err)
				return
			}
			got, err := tr.ReadCard(context.Background(), data)
			if err != nil || got.Number != c.Number {
				t.Errorf("%dx%d photo: number %q (%v), want the card's", w, h, got.Number, err)
			}
			if got.Name != "" && got.Name != c.Name {
				t.Errorf("%dx%d photo: wrong name %q", w, h, got.Name)
			}
		}()
	}
	wg.Wait()
}
