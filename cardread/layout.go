package cardread

import (
	"image"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// word is one word of tesseract's TSV output (level 5).
type word struct {
	text string
	conf float64
	box  image.Rectangle
	page int // 1-based page of a multi-page input
}

func (w word) h() int { return w.box.Dy() }

// parseTSV reads the words from `tesseract ... tsv` output. Columns:
// level page_num block_num par_num line_num word_num left top width height
// conf text.
func parseTSV(s string) []word {
	var ws []word
	for _, ln := range strings.Split(s, "\n") {
		f := strings.Split(strings.TrimRight(ln, "\r"), "\t")
		if len(f) < 12 || f[0] != "5" {
			continue
		}
		text := strings.TrimSpace(f[11])
		if text == "" {
			continue
		}
		var n [5]int
		ok := true
		for i := range 4 {
			v, err := strconv.Atoi(f[6+i])
			if err != nil {
				ok = false
				break
			}
			n[i] = v
		}
		conf, err := strconv.ParseFloat(f[10], 64)
		if !ok || err != nil || n[2] <= 0 || n[3] <= 0 {
			continue
		}
		page, _ := strconv.Atoi(f[1])
		ws = append(ws, word{text: text, conf: conf, box: image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), page: page})
	}
	return ws
}

// numberishCount counts the runes of s that can be part of an ID number.
func numberishCount(s string) int {
	n := 0
	for _, r := range s {
		if numberish(r) {
			n++
		}
	}
	return n
}

// vOverlap is the vertical overlap of a and b as a share of the lower one.
func vOverlap(a, b image.Rectangle) float64 {
	o := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	if o <= 0 {
		return 0
	}
	return float64(o) / float64(min(a.Dy(), b.Dy()))
}

// numberGroup finds the words that most likely hold the ID number: words
// made mostly of numberish characters, chained left to right on one line,
// the chain with the most such characters (at least minRunes). It returns
// the chain's box and text.
func numberGroup(ws []word, minRunes int) (image.Rectangle, string, bool) {
	var cand []word
	for _, w := range ws {
		c := numberishCount(w.text)
		if c >= 2 && c*10 >= utf8.RuneCountInString(w.text)*6 {
			cand = append(cand, w)
		}
	}
	sort.Slice(cand, func(i, j int) bool { return cand[i].box.Min.X < cand[j].box.Min.X })
	used := make([]bool, len(cand))
	var best image.Rectangle
	var bestText string
	bestN := 0
	for i := range cand {
		if used[i] {
			continue
		}
		box, text := cand[i].box, cand[i].text
		last := cand[i]
		used[i] = true
		for j := i + 1; j < len(cand); j++ {
			w := cand[j]
			h := max(last.h(), w.h())
			if used[j] || w.box.Min.X-last.box.Max.X > 2*h || vOverlap(last.box, w.box) < 0.5 {
				continue
			}
			used[j] = true
			box = box.Union(w.box)
			text += " " + w.text
			last = w
		}
		if n := numberishCount(text); n > bestN {
			best, bestText, bestN = box, text, n
		}
	}
	return best, bestText, bestN >= minRunes
}

// hasAny reports whether s contains any of the runes in set.
func hasAny(s, set string) bool { return strings.ContainsAny(s, set) }

// labelBox finds a printed label such as 公民身份号码 or 姓名: the words
// containing at least need of the label's characters, chained on one line.
// When several places qualify, the one with the most label characters
// wins.
func labelBox(ws []word, label string, need int) (image.Rectangle, bool) {
	best, bestN := image.Rectangle{}, 0
	for i, w := range ws {
		if !hasAny(w.text, label) {
			continue
		}
		box := w.box
		n := countIn(w.text, label)
		// Chain neighbours to the right that carry more label characters.
		for j, v := range ws {
			if j == i || !hasAny(v.text, label) || v.box.Min.X < w.box.Min.X {
				continue
			}
			if vOverlap(box, v.box) >= 0.5 && v.box.Min.X-box.Max.X < 2*max(w.h(), v.h()) && v.box.Min.X >= box.Max.X-2 {
				box = box.Union(v.box)
				n += countIn(v.text, label)
			}
		}
		if n > bestN {
			best, bestN = box, n
		}
	}
	return best, bestN >= need
}

// countIn counts the distinct runes of label that occur in s.
func countIn(s, label string) int {
	n := 0
	for _, r := range label {
		if strings.ContainsRune(s, r) {
			n++
		}
	}
	return n
}

// wordsRightOf returns the words on label's line to its right, chained
// with gaps under maxGap heights, stopping at the first word with no Han
// character (the portrait's edge or noise): their box, the median word
// height and the words.
func wordsRightOf(ws []word, label image.Rectangle, maxGap float64) (image.Rectangle, int, []word) {
	var line []word
	for _, w := range ws {
		if w.box.Min.X >= label.Max.X-2 && vOverlap(label, w.box) >= 0.4 {
			line = append(line, w)
		}
	}
	sort.Slice(line, func(i, j int) bool { return line[i].box.Min.X < line[j].box.Min.X })
	var box image.Rectangle
	var found []word
	right := label.Max.X
	var hs []int
	h := float64(label.Dy())
	for _, w := range line {
		if float64(w.box.Min.X-right) > maxGap*math.Max(h, float64(w.h())) {
			break
		}
		if !strings.ContainsFunc(w.text, func(r rune) bool {
			return unicode.Is(unicode.Han, r) || isDot(r) || unicode.IsPunct(r)
		}) {
			break
		}
		box = box.Union(w.box)
		found = append(found, w)
		right = w.box.Max.X
		hs = append(hs, w.h())
	}
	if len(hs) == 0 {
		return box, 0, nil
	}
	// OCR boxes of a few characters take in strokes of the next line:
	// the median height is the text's.
	sort.Ints(hs)
	return box, hs[len(hs)/2], found
}

// Card geometry (85.6 × 54 mm card, in mm ×10): where the number and the
// name sit, used to find one from the other when OCR missed a label.
const (
	cardNumberX0 = 300.0 // number's left edge
	cardNumberW  = 395.0 // number's width
	cardNumberCY = 458.0 // number's vertical centre
	cardNameX0   = 128.0 // name's left edge
	cardNameCY   = 80.0  // name's vertical centre
	cardNameMaxW = 420.0 // room for the name before the portrait
	cardNameH    = 34.0  // name's height
)

// nameFromNumber estimates where the name is from the number's box on a
// card turned by deg degrees: the box around the name's line and the
// height of its characters.
func nameFromNumber(num image.Rectangle, deg float64) (image.Rectangle, int) {
	th := deg * math.Pi / 180
	c, sn := math.Cos(th), math.Sin(th)
	// The box of a turned line is wider than the line by cos.
	s := float64(num.Dx()) / c / cardNumberW
	// The number's left end, on its centre line.
	ox := float64(num.Min.X)
	oy := float64(num.Min.Y+num.Max.Y)/2 - float64(num.Dx())/2*math.Tan(th)
	// The name line's middle, from there along the turned card.
	dx := (cardNameX0 - cardNumberX0 + cardNameMaxW/2) * s
	dy := (cardNameCY - cardNumberCY) * s
	mx, my := ox+c*dx-sn*dy, oy+sn*dx+c*dy
	w, h := cardNameMaxW*s, cardNameH*s
	bw, bh := w*c+h*math.Abs(sn), h*c+w*math.Abs(sn)
	return image.Rect(int(mx-bw/2), int(my-bh/2), int(mx+bw/2), int(my+bh/2)), int(h)
}

// snapName finds the name's line among the full pass's words near est, the
// place the card's layout gives it from the number's (nameFromNumber).
// That estimate is off by up to a line on a card photographed at an angle
// (the layout is scaled from the number's line, and perspective shrinks
// the card's far side), while the words are where the text really is.
// The name is the card's first line and nothing is printed above it, so it
// takes the topmost line of Han words from two name heights above est's
// middle (the next line, sex and ethnicity, is about two name heights
// below the name) to one below, and returns its box, character height and
// words.
func snapName(ws []word, est image.Rectangle, h int) (image.Rectangle, int, []word, bool) {
	han := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	}
	cy := float64(est.Min.Y+est.Max.Y) / 2
	var anchor *word
	best := math.Inf(1)
	for i, w := range ws {
		wy := float64(w.box.Min.Y+w.box.Max.Y) / 2
		if !han(w.text) || w.box.Min.X < est.Min.X-h || w.box.Min.X > est.Min.X+est.Dx()/2 {
			continue
		}
		if wy > cy-2.2*float64(h) && wy < cy+float64(h) && wy < best {
			best, anchor = wy, &ws[i]
		}
	}
	if anchor == nil {
		return image.Rectangle{}, 0, nil, false
	}
	// The line: from the leftmost Han word on the anchor's line within the
	// estimate, chained rightwards as right of a label.
	left := *anchor
	for _, w := range ws {
		if han(w.text) && w.box.Min.X < left.box.Min.X && w.box.Min.X >= est.Min.X-h && vOverlap(w.box, anchor.box) >= 0.4 {
			left = w
		}
	}
	start := image.Rect(left.box.Min.X-1, left.box.Min.Y, left.box.Min.X, left.box.Max.Y)
	box, mh, line := wordsRightOf(ws, start, 3)
	if len(line) == 0 {
		return image.Rectangle{}, 0, nil, false
	}
	return box, mh, line, true
}
