package cardread

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"pensionbot/internal/cardgen"
)

// needFont fails under CI=true and skips elsewhere when cardgen's font is
// missing.
func needFont(t testing.TB) {
	t.Helper()
	if cardgen.Available() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: run scripts/install-deps.sh", cardgen.FontPath)
	}
	t.Skipf("%s is missing: run scripts/install-deps.sh", cardgen.FontPath)
}

// TestTesseractShots reads cardgen.ShotFixtures: photos of cards with the
// damage real photos have (turned, upside down, in perspective, small in
// clutter, JPEG quality 15, half in shadow, motion blur, noise, warm light,
// small, on a patterned cloth). They measure the reader. A wrong name or
// number is worse than none (the person has to notice it instead of
// typing), so none may be wrong, and at least 90 % of the names must be
// exact.
//
// With -race (make test) the rendering, decoding and image work in Go
// take several times longer, so only the first two shots of each kind are
// read there; go test ./cardread reads all of them.
func TestTesseractShots(t *testing.T) {
	needTesseract(t)
	needFont(t)
	// The reader's timeout guards the bot against a stuck process; here it
	// would only make the result depend on the machine's load.
	tr, err := NewTesseract(TesseractOptions{Timeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		f         cardgen.ShotFixture
		name, num string
		err       error
		took      time.Duration
	}
	fixtures := cardgen.ShotFixtures()
	if raceDetector {
		perKind := map[string]int{}
		var some []cardgen.ShotFixture
		for _, f := range fixtures {
			if perKind[f.Kind]++; perKind[f.Kind] <= 2 {
				some = append(some, f)
			}
		}
		fixtures = some
	}
	results := make([]result, len(fixtures))
	var wg sync.WaitGroup
	// Rendering and reading in parallel; tr bounds the tesseract processes.
	sem := make(chan struct{}, 4)
	for i, f := range fixtures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := result{f: f}
			data, err := f.Encode()
			if err != nil {
				r.err = err
				results[i] = r
				return
			}
			start := time.Now()
			got, err := tr.ReadCard(context.Background(), data)
			r.took, r.name, r.num, r.err = time.Since(start), got.Name, got.Number, err
			results[i] = r
		}()
	}
	wg.Wait()

	var names, nameEmpty, nameWrong, nums, numEmpty, numWrong int
	var lines []string
	for _, r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.f.Name, r.err)
			continue
		}
		nameMark, numMark := "ok", "ok"
		switch r.name {
		case r.f.Card.Name:
			names++
		case "":
			nameEmpty++
			nameMark = "empty"
		default:
			nameWrong++
			nameMark = "WRONG"
			t.Errorf("%s: offered the name %q, the card says %q", r.f.Name, r.name, r.f.Card.Name)
		}
		switch r.num {
		case r.f.Card.Number:
			nums++
		case "":
			numEmpty++
			numMark = "empty"
		default:
			numWrong++
			numMark = "WRONG"
			t.Errorf("%s: offered a wrong number that passes the checksum", r.f.Name)
		}
		lines = append(lines, fmt.Sprintf("%-18s name %-5s number %-5s %v", r.f.Name, nameMark, numMark, r.took.Round(time.Millisecond)))
	}
	n := len(fixtures)
	t.Logf("%d photos: names %d exact, %d empty, %d wrong; numbers %d exact, %d empty, %d wrong\n%s",
		n, names, nameEmpty, nameWrong, nums, numEmpty, numWrong, strings.Join(lines, "\n"))
	if names*10 < n*9 {
		t.Errorf("names exact on %d of %d photos, want at least 90%%", names, n)
	}
}
