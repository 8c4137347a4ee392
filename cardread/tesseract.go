package cardread

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"pensionbot/flows"
	"pensionbot/idcard"
)

var _ flows.CardReader = (*Tesseract)(nil)

// ErrUnavailable is returned (wrapped) by NewTesseract when the tesseract
// binary or its language data is missing.
var ErrUnavailable = errors.New("tesseract is not available")

// DefaultTimeout bounds one ReadCard of Tesseract, all passes included.
const DefaultTimeout = 30 * time.Second

// TesseractOptions configure NewTesseract. The zero value works.
type TesseractOptions struct {
	// Path is the tesseract binary; "tesseract" from PATH when empty.
	Path string
	// TessdataDir is passed as --tessdata-dir when set.
	TessdataDir string
	// Timeout bounds one ReadCard (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxPixels refuses larger pictures (DefaultMaxPixels when 0).
	MaxPixels int
	// MaxProcs bounds the tesseract processes running at once across all
	// ReadCard calls (runtime.NumCPU() when 0). Further calls wait.
	MaxProcs int
	// Threads is OMP_THREAD_LIMIT for each process (1 when 0). Several
	// single-threaded processes use a small machine better than one
	// process fighting over cores with OpenMP.
	Threads int
	// Logger receives debug lines with timings and masked results; nil
	// discards them.
	Logger *slog.Logger
	// Now gives the date for the "birth date not in the future" check
	// (time.Now when nil).
	Now func() time.Time
}

// Tesseract reads cards offline with the tesseract OCR engine and its
// Simplified Chinese and English models (Debian packages tesseract-ocr,
// tesseract-ocr-chi-sim, tesseract-ocr-eng).
//
// A card in a phone photo can sit anywhere and be turned a little, so
// ReadCard works in passes:
//
//  1. The picture is converted to grey, contrast-stretched and scaled so
//     that its long side is 1200–2000 px.
//  2. A full-page pass (chi_sim, sparse text, TSV output with word boxes)
//     finds the number (the longest run of digit-like characters, or the
//     space right of the 公民身份号码 label) and the name (right of 姓名,
//     or, when that label was missed, the topmost line of Chinese words
//     near where the card's layout puts the name relative to the number).
//     When no valid number comes out of a page, the page is read again
//     with its light evened out (a shadow over half the card), then turned
//     upside down and on either side (see readAll).
//  3. The number's line is cut out with a margin, straightened (projection
//     profile), scaled so that its text is about 50 px high, thresholded
//     (Otsu) and read as one line with the English model and a
//     0123456789X whitelist (chi_sim misreads 0 as 6 on this font); the
//     grey crop is read too when the thresholded one gives no valid
//     number. The name's line is cut out the same way, with the number's
//     tilt.
//  4. The number must pass idcard.Parse (checksum, real birth date).
//     Letters that look like digits (O→0, I/l→1, B→8, S→5, Z→2) are
//     mapped. When no reading is valid as it is, repairs (confusable
//     digits swapped, such as chi_sim's 6 for 0, or a stray character
//     dropped) are tried, but only with evidence from a second reading,
//     and only a single surviving candidate is accepted (see pickNumber);
//     otherwise the number is left empty for the person to type.
//  5. The name is read with chi_sim as one line, from the thresholded, the
//     grey and an evened-out, sharpened crop; when these and the full pass
//     disagree, once more as a raw line. Only a clear majority is offered,
//     and never a line that holds a card's label (see readName). It keeps
//     only Chinese characters and the middle dot (2–6 characters, or a
//     dotted minority name).
//
// Each tesseract process loads its model, which costs more than reading a
// line, so crops read with the same settings go to one process as a
// multi-page TIFF on stdin; no picture is written to disk.
type Tesseract struct {
	opts   TesseractOptions
	bin    string
	langs  []string
	sem    chan struct{}
	logger *slog.Logger
}

// NewTesseract checks that the binary runs and has the chi_sim and eng
// models (tesseract --list-langs), and returns a reader. The error wraps
// ErrUnavailable when something is missing.
func NewTesseract(opts TesseractOptions) (*Tesseract, error) {
	if opts.Path == "" {
		opts.Path = "tesseract"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MaxProcs <= 0 {
		opts.MaxProcs = runtime.NumCPU()
	}
	if opts.Threads <= 0 {
		opts.Threads = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bin, err := exec.LookPath(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("cardread: %w: %w (install tesseract-ocr)", ErrUnavailable, err)
	}
	t := &Tesseract{opts: opts, bin: bin, sem: make(chan struct{}, opts.MaxProcs), logger: logger}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"--list-langs"}
	if opts.TessdataDir != "" {
		args = append([]string{"--tessdata-dir", opts.TessdataDir}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = t.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("cardread: %w: %s --list-langs: %w: %s", ErrUnavailable, bin, err, firstLine(out))
	}
	for _, ln := range strings.Split(string(out), "\n") {
		ln = strings.TrimSpace(ln)
		if ln != "" && !strings.Contains(ln, " ") {
			t.langs = append(t.langs, ln)
		}
	}
	for _, need := range []string{"chi_sim", "eng"} {
		if !contains(t.langs, need) {
			return nil, fmt.Errorf("cardread: %w: language %s missing (install tesseract-ocr-%s)",
				ErrUnavailable, need, strings.ReplaceAll(need, "_", "-"))
		}
	}
	return t, nil
}

// Available reports whether t can read cards: it was made by NewTesseract
// (a nil *Tesseract is not available) and has its models. Orientation
// detection is used only when the osd model is installed too.
func (t *Tesseract) Available() bool {
	return t != nil && contains(t.langs, "chi_sim") && contains(t.langs, "eng")
}

func (t *Tesseract) env() []string {
	return append(os.Environ(), "OMP_THREAD_LIMIT="+strconv.Itoa(max(t.opts.Threads, 1)))
}

// run pipes img to tesseract (as PGM) and returns what it printed.
func (t *Tesseract) run(ctx context.Context, img *image.Gray, args ...string) (string, error) {
	return t.exec(ctx, pgm(img), args...)
}

// runPages has one tesseract process read several images (a multi-page
// TIFF on stdin) with TSV output, and returns each page's words.
func (t *Tesseract) runPages(ctx context.Context, imgs []*image.Gray, args ...string) ([][]word, error) {
	out, err := t.exec(ctx, multiTIFF(imgs), append(args, "tsv")...)
	if err != nil {
		return nil, err
	}
	pages := make([][]word, len(imgs))
	for _, w := range parseTSV(out) {
		if w.page >= 1 && w.page <= len(pages) {
			pages[w.page-1] = append(pages[w.page-1], w)
		}
	}
	return pages, nil
}

func (t *Tesseract) exec(ctx context.Context, input []byte, args ...string) (string, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-t.sem }()

	full := []string{"stdin", "stdout"}
	if t.opts.TessdataDir != "" {
		full = append(full, "--tessdata-dir", t.opts.TessdataDir)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, t.bin, full...)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Env = t.env()
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		// tesseract's stderr holds warnings and errors about the model or
		// the image, never the recognised text.
		return "", fmt.Errorf("tesseract %s: %w: %s", strings.Join(args, " "), err, firstLine(stderr.Bytes()))
	}
	return stdout.String(), nil
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Page normalisation: long side between these, in pixels.
const (
	minLongSide = 1200
	maxLongSide = 2000
)

// lineTextHeight is the text height, in pixels, a line crop is scaled to.
const lineTextHeight = 50.0

// ReadCard implements flows.CardReader. It returns the fields it could
// read (either may be empty) and an error only when the picture is not a
// usable image (ErrNotImage, ErrImageTooLarge), tesseract failed, or ctx
// ended. Errors carry no personal data.
func (t *Tesseract) ReadCard(ctx context.Context, data []byte) (flows.CardFields, error) {
	if !t.Available() {
		return flows.CardFields{}, fmt.Errorf("cardread: tesseract: %w", ErrUnavailable)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()

	img, err := decodeImage(data, t.opts.MaxPixels)
	if err != nil {
		return flows.CardFields{}, fmt.Errorf("cardread: tesseract: %w", err)
	}
	fields, pr, err := t.readAll(ctx, toGray(img))
	if err != nil {
		return flows.CardFields{}, fmt.Errorf("cardread: tesseract: %w", err)
	}
	found := pr.layout
	t.logger.Debug("cardread: tesseract read a card",
		slog.Duration("took", time.Since(start)),
		slog.Int("passes", pr.passes),
		slog.Int("turned", pr.turned),
		slog.Bool("flattened", pr.flattened),
		slog.String("number", idcard.Mask(fields.Number)),
		slog.Bool("name", fields.Name != ""),
		slog.Bool("number_line_found", found.hasNumber || found.hasNumberLabel),
		slog.Bool("name_line_found", found.hasName))
	return fields, nil
}

// pageRead is what one reading of a page gave.
type pageRead struct {
	fields    flows.CardFields
	layout    layout
	turned    int  // degrees the page was turned clockwise
	flattened bool // whether the light was evened out (flatten)
	passes    int  // pages read for this result, this one included
}

// card reports whether what was read looks like the front of a card: a
// valid number, or both printed labels in place (a card the right way up
// whose fields are hard to read: turning it will not help).
func (p pageRead) card() bool {
	return p.fields.Number != "" || p.layout.hasNumberLabel && p.layout.hasName && p.layout.nameFromLabel
}

// readAll reads the card in g, trying harder while what it read is not a
// card:
//
//  1. the page as it is (contrast stretched);
//  2. the page with its light evened out (flatten): a shadow over half the
//     card leaves that half too dark for a global threshold. It is not the
//     first choice because on evenly lit cards it changes the strokes a
//     little, and tesseract's readings of a name change with them;
//  3. the evened-out page turned by 180°, 90° and 270° (tesseract's
//     orientation detection's guess first when the osd model is there): a
//     card photographed upside down or sideways reads as nothing at all
//     the right way up.
//
// The first reading with a valid number wins; when it has no name, the
// evened-out page is read for the name too. Otherwise the reading of the
// page the right way up is kept, for the name it may hold.
func (t *Tesseract) readAll(ctx context.Context, g *image.Gray) (flows.CardFields, pageRead, error) {
	page := normalisePage(g)
	passes := 0
	try := func(p *image.Gray, deg int, flat bool) (pageRead, error) {
		passes++
		fields, l, err := t.readPage(ctx, p)
		if err != nil {
			what := "page"
			if flat {
				what = "page with light evened out"
			}
			return pageRead{}, fmt.Errorf("%s turned %d°: %w", what, deg, err)
		}
		return pageRead{fields: fields, layout: l, turned: deg, flattened: flat, passes: passes}, nil
	}
	first, err := try(page, 0, false)
	if err != nil || first.fields.Number != "" && first.fields.Name != "" {
		return first.fields, first, err
	}
	flat := autoContrast(flatten(page))
	second, err := try(flat, 0, true)
	if err != nil {
		return flows.CardFields{}, pageRead{}, err
	}
	if first.fields.Number != "" {
		// The number read but not the name: the evened-out page may give
		// it (a shadow's edge across the name). Its name counts only if
		// it saw the same card: the same number, or none.
		if second.fields.Number == "" || second.fields.Number == first.fields.Number {
			first.fields.Name = second.fields.Name
		}
		first.passes = passes
		return first.fields, first, nil
	}
	upright := first
	if second.fields.Number != "" || first.fields.Name == "" && second.fields.Name != "" {
		upright = second
	}
	if upright.fields.Number != "" || first.card() || second.card() {
		upright.passes = passes
		return upright.fields, upright, nil
	}
	for _, deg := range t.turns(ctx, flat) {
		r, err := try(rotate90(flat, deg), deg, true)
		if err != nil {
			return flows.CardFields{}, pageRead{}, err
		}
		if r.fields.Number != "" {
			return r.fields, r, nil
		}
	}
	upright.passes = passes
	return upright.fields, upright, nil
}

// turns lists the quarter turns to try on a page that did not read as a
// card: tesseract's orientation guess first (when the osd model is
// installed; it is often wrong on a small card in a large photo), then
// 180° (a card is more often put down upside down than sideways), then
// 90° and 270°. A portrait page holds a landscape card sideways more
// likely than upside down, so it tries the quarter turns first.
func (t *Tesseract) turns(ctx context.Context, page *image.Gray) []int {
	order := []int{180, 90, 270}
	if page.Bounds().Dy() > page.Bounds().Dx() {
		order = []int{90, 270, 180}
	}
	if contains(t.langs, "osd") {
		if deg, ok := t.orientation(ctx, page); ok && deg != 0 {
			out := []int{deg}
			for _, d := range order {
				if d != deg {
					out = append(out, d)
				}
			}
			return out
		}
	}
	return order
}

// readPage reads one page: a full pass for the layout, then the number's
// and the name's lines cut out and read.
func (t *Tesseract) readPage(ctx context.Context, page *image.Gray) (flows.CardFields, layout, error) {
	ws, err := t.fullPass(ctx, page)
	if err != nil {
		return flows.CardFields{}, layout{}, fmt.Errorf("full page: %w", err)
	}
	found := findLayout(ws)

	// Cut the lines out first: the name's place and tilt may follow from
	// the number's. Then read both at once.
	var numCrops, nameCrops []*image.Gray
	tilt := math.NaN()
	if r, ok := found.numberRegion(); ok {
		textH := numberTextHeight(r)
		if !found.hasNumber {
			textH = found.numberLabel.Dy() * 5 / 4
		}
		grey, bin, _, deg := lineCrop(page, r, textH, math.NaN())
		numCrops, tilt = []*image.Gray{bin, grey}, deg
		if !found.hasName && found.hasNumber {
			found.name, found.nameH = nameFromNumber(found.number, deg)
			found.hasName = true
			if box, h, words, ok := snapName(ws, found.name, found.nameH); ok {
				text, conf := joinWords(words)
				found.name, found.nameH = box, max(h, found.nameH*3/4)
				found.nameWords = word{text: text, conf: conf, box: box}
			}
		}
	}
	if found.hasName {
		// A name is too short to measure a tilt on: use the number's.
		grey, bin, even, _ := lineCrop(page, found.name, found.nameH, tilt)
		nameCrops = []*image.Gray{bin, grey, even}
	}

	now := t.opts.Now()
	var fields flows.CardFields
	var numErr, nameErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		fields.Number, numErr = t.readNumber(ctx, numCrops, found.numberText, now)
	}()
	go func() {
		defer wg.Done()
		fields.Name, nameErr = t.readName(ctx, nameCrops, found.nameWords, found.nameFromLabel)
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return flows.CardFields{}, layout{}, err
	}
	if err := errors.Join(numErr, nameErr); err != nil {
		return flows.CardFields{}, layout{}, err
	}
	return fields, found, nil
}

// normalisePage stretches contrast and scales g so that its long side is
// within [minLongSide, maxLongSide].
func normalisePage(g *image.Gray) *image.Gray {
	long := max(g.Bounds().Dx(), g.Bounds().Dy())
	f := 1.0
	switch {
	case long < minLongSide:
		f = float64(minLongSide) / float64(long)
	case long > maxLongSide:
		f = float64(maxLongSide) / float64(long)
	}
	return autoContrast(scaleGray(g, f))
}

func (t *Tesseract) fullPass(ctx context.Context, page *image.Gray) ([]word, error) {
	out, err := t.run(ctx, page, "-l", "chi_sim", "--psm", "11", "--dpi", "300", "tsv")
	if err != nil {
		return nil, err
	}
	return parseTSV(out), nil
}

// orientation asks tesseract's OSD how far the page must be turned
// clockwise to be upright.
func (t *Tesseract) orientation(ctx context.Context, page *image.Gray) (int, bool) {
	out, err := t.run(ctx, page, "--psm", "0", "--dpi", "300")
	if err != nil {
		return 0, false
	}
	for _, ln := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(ln), "Rotate:"); ok {
			deg, err := strconv.Atoi(strings.TrimSpace(v))
			return deg, err == nil
		}
	}
	return 0, false
}

// layout is what the full-page pass found, in page pixels.
type layout struct {
	number, numberLabel, name image.Rectangle
	nameH                     int // height of the name's characters
	numberText                string
	nameWords                 word // the full pass's reading of the name
	hasNumber, hasNumberLabel bool
	hasName                   bool
	// nameFromLabel is set when the name's place comes from the 姓名
	// label, not from the number's place and the card's layout.
	nameFromLabel bool
}

func (l layout) any() bool { return l.hasNumber || l.hasNumberLabel || l.hasName }

func findLayout(ws []word) layout {
	var l layout
	l.number, l.numberText, l.hasNumber = numberGroup(ws, 12)
	l.numberLabel, l.hasNumberLabel = labelBox(ws, "公民身份号码", 3)
	if label, ok := labelBox(ws, "姓名", 1); ok && (!l.hasNumber || label.Max.Y < l.number.Min.Y) {
		box, h, words := wordsRightOf(ws, label, 3)
		if !box.Empty() {
			text, conf := joinWords(words)
			l.name, l.nameH, l.hasName, l.nameFromLabel = box, h, true, true
			l.nameWords = word{text: text, conf: conf, box: box}
		} else {
			// The label was read but not the name: look where it must be
			// (the name is printed larger than the label, on its baseline).
			h := label.Dy()
			l.name = image.Rect(label.Max.X+h/2, label.Min.Y-h/3, label.Max.X+16*h, label.Max.Y)
			l.nameH, l.hasName, l.nameFromLabel = h*3/2, true, true
		}
	}
	return l
}

// numberRegion is where to cut the number's line from: the digits the full
// pass saw, or the space right of the label.
func (l layout) numberRegion() (image.Rectangle, bool) {
	if l.hasNumber {
		return l.number, true
	}
	if l.hasNumberLabel {
		b, h := l.numberLabel, l.numberLabel.Dy()
		return image.Rect(b.Max.X+3*h, b.Min.Y-h, b.Max.X+29*h, b.Max.Y+h/2), true
	}
	return image.Rectangle{}, false
}

// lineCrop cuts out the line of text whose box in page is r and whose
// characters are textH pixels high. It takes a generous region around r
// (enough for a line turned by up to maxSkew degrees), measures the tilt
// (or uses deg when it is not NaN), turns the region straight about r's
// centre, cuts a band of the line's height with a small margin, and scales
// it so that the text is about lineTextHeight pixels high. It returns the
// band grey, thresholded (Otsu), and with its light evened out and
// sharpened (for text at a shadow's edge or soft from enlargement), all
// padded white, and the tilt.
func lineCrop(page *image.Gray, r image.Rectangle, textH int, deg float64) (grey, binary, even *image.Gray, tilt float64) {
	const maxSkew = 6.0
	textH = max(textH, 1)
	th := float64(textH)
	ext := textH + int(float64(r.Dx())*math.Tan(maxSkew*math.Pi/180)/2)
	outer := image.Rect(r.Min.X-textH, r.Min.Y-ext, r.Max.X+textH, r.Max.Y+ext).Intersect(page.Bounds())
	c := crop(page, outer)
	if c.Bounds().Empty() {
		return c, c, c, 0
	}
	// r's centre in c's coordinates.
	cx := float64(r.Min.X+r.Max.X)/2 - float64(outer.Min.X)
	cy := float64(r.Min.Y+r.Max.Y)/2 - float64(outer.Min.Y)
	if math.IsNaN(deg) {
		band := crop(c, image.Rect(0, int(cy-float64(r.Dy())/2-th/2), c.Bounds().Dx(), int(cy+float64(r.Dy())/2+th/2)))
		deg = skew(binarize(band, otsu(band)), maxSkew)
	}
	if deg != 0 {
		c = rotate(c, -deg, cx, cy, median(c))
	}
	// Straightened, the line is about as long as r is wide / cos(tilt).
	half := float64(r.Dx()) / 2 / math.Cos(deg*math.Pi/180)
	c = crop(c, image.Rect(int(cx-half-0.3*th), int(cy-0.5*th-0.4*th), int(cx+half+0.6*th), int(cy+0.5*th+0.4*th)))
	f := math.Max(1, math.Min(4, lineTextHeight/th))
	c = scaleGray(c, f)
	b := binarize(c, otsu(c))
	// Evened out before padding: the white border would pass for paper.
	// The text is about lineTextHeight high, so blocks of a quarter of it
	// make a window wider than a character's inner gaps.
	e := sharpen(flattenBlocks(c, lineTextHeight/4), 1.5)
	return pad(c, 16), pad(b, 16), pad(e, 16), deg
}

// numberTextHeight guesses the height of the number's characters from its
// box: for a line turned by a few degrees the box is taller than the text.
func numberTextHeight(r image.Rectangle) int {
	// 18 characters on a card line are about 21 times as wide as high.
	return max(1, min(r.Dy(), r.Dx()/14))
}

// readNumber reads the number line's crops with the digit whitelist,
// thresholded first and grey second, and falls back to the full pass's
// reading (chinese).
func (t *Tesseract) readNumber(ctx context.Context, crops []*image.Gray, chinese string, now time.Time) (string, error) {
	var reads []read
	for _, img := range crops {
		out, err := t.run(ctx, img, "-l", "eng", "--psm", "7", "--dpi", "300",
			"-c", "tessedit_char_whitelist=0123456789X", "-c", "load_system_dawg=0", "-c", "load_freq_dawg=0")
		if err != nil {
			return "", fmt.Errorf("number line: %w", err)
		}
		reads = append(reads, read{text: out})
		if ns := exactNumbers(out, now); len(ns) == 1 {
			return ns[0], nil
		}
	}
	if chinese != "" {
		reads = append(reads, read{text: chinese})
	}
	return pickNumber(reads, now), nil
}

// readName reads the name line's crops (thresholded and grey) with
// chi_sim as one text line (--psm 7), and counts the full pass's reading
// as a third vote. When the readings that look like a name do not all
// agree, it reads the crops again as raw lines (--psm 13, no layout
// analysis): each mode misreads some names that the other gets right (7
// inserts a 了 into 黄永福, 13 drops middle dots).
//
// A name is offered only with a clear majority: at least two readings
// agree, they are more than half of the readings that look like a name,
// and at least twice as many as those of any other name. A single
// reading, or a narrow lead, is too often a misread character (古 read as
// 十, 英 as 黄) or another line of the card, and a wrong name that an
// older person confirms is worse than an empty one they type. Readings that hold a card's label (性别, 民族, …) are not
// names at all and get no vote: when the 姓名 label was missed the crop
// may hold the sex and ethnicity line instead.
func (t *Tesseract) readName(ctx context.Context, crops []*image.Gray, fullPass word, fromLabel bool) (string, error) {
	type tally struct {
		votes int
		conf  float64
	}
	votes := map[string]*tally{}
	reads := 0
	vote := func(text string, conf float64) {
		name := cleanName(text)
		if name == "" || holdsLabel(name) {
			return
		}
		reads++
		v := votes[name]
		if v == nil {
			v = &tally{}
			votes[name] = v
		}
		v.votes++
		v.conf = math.Max(v.conf, conf)
	}
	vote(fullPass.text, fullPass.conf)
	if len(crops) > 0 {
		for round, psm := range []string{"7", "13"} {
			pages, err := t.runPages(ctx, crops, "-l", "chi_sim", "--psm", psm, "--dpi", "300")
			if err != nil {
				return "", fmt.Errorf("name line: %w", err)
			}
			for _, ws := range pages {
				vote(joinWords(ws))
			}
			if round == 0 && len(votes) == 1 && reads >= 2 {
				break // unanimous
			}
		}
	}
	best, bestV, second, all := "", tally{}, 0, 0
	for name, v := range votes {
		all += v.votes
		switch {
		case v.votes > bestV.votes:
			second = bestV.votes
			best, bestV = name, *v
		case v.votes > second:
			second = v.votes
		}
	}
	if bestV.votes < 2 || bestV.votes < 2*second || 2*bestV.votes <= all {
		return "", nil
	}
	return best, nil
}

// labelWords are the labels printed on the front of a card. No name holds
// one; a reading that does is another line of the card.
var labelWords = []string{"姓名", "性别", "民族", "出生", "住址", "公民", "身份", "号码"}

// labelOnly are characters of the labels that are not used in names, so
// that one of them alone, misread neighbours aside (性刷, 民旅), marks a
// label. 民, 生, 年, 月, 日, 公 and 名 are left out: names use them.
const labelOnly = "性别族址身份号码"

// holdsLabel reports whether name holds a card label, or starts with the
// sex printed after one (男, 女: no surname).
func holdsLabel(name string) bool {
	for _, l := range labelWords {
		if strings.Contains(name, l) {
			return true
		}
	}
	return strings.ContainsAny(name, labelOnly) || strings.HasPrefix(name, "男") || strings.HasPrefix(name, "女")
}

// joinWords concatenates words (Chinese has no spaces between them) and
// returns their confidence averaged over characters.
func joinWords(ws []word) (string, float64) {
	var text strings.Builder
	var sum, n float64
	for _, w := range ws {
		text.WriteString(w.text)
		k := float64(utf8.RuneCountInString(w.text))
		sum += w.conf * k
		n += k
	}
	if n == 0 {
		return "", 0
	}
	return text.String(), sum / n
}
