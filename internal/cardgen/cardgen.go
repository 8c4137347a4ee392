// Package cardgen renders synthetic fronts of second-generation Chinese
// resident ID cards (the side with the portrait, name and number) for tests
// of card readers. The cards are fakes made from sample data: a grey
// placeholder instead of a portrait, no security features.
//
// The layout follows a real card at about 10 px/mm (85.6 × 54 mm → 856 × 540
// px): labels 姓名 性别 民族 出生 住址 in blue-grey on the left, values in
// black, the 18-character number on the bottom line after 公民身份号码, the
// portrait on the right, on a light patterned background with rounded
// corners. Variants (Dark, Blurred, Tiny, Glare, OnTable) imitate what
// pensioners' phone photos look like. Everything is deterministic, so the
// same Card gives the same pixels.
//
// Text is drawn with Droid Sans Fallback from Debian's fonts-droid-fallback
// (scripts/install-deps.sh installs it). golang.org/x/image cannot parse the
// wqy .ttc collections, hence this font.
package cardgen

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// FontPath is where Debian's fonts-droid-fallback installs the CJK font
// Render uses.
const FontPath = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// Size of a rendered card in pixels (85.6 × 54 mm at 10 px/mm).
const (
	Width  = 856
	Height = 540
)

// ErrNoFont is returned (wrapped) by Render when the font file is missing.
var ErrNoFont = errors.New("cardgen: CJK font not found (run scripts/install-deps.sh)")

// Card is what is printed on the front of a card. Only Name and Number are
// required; the other fields are derived or defaulted.
type Card struct {
	Name      string // 姓名, e.g. 张秀兰
	Number    string // 公民身份号码, 18 characters
	Address   string // 住址; wrapped over up to three lines
	Sex       string // 性别: 男 or 女; derived from Number when empty
	Ethnicity string // 民族; 汉 when empty
	// Birth is 出生 as year, month, day; derived from Number when zero.
	Birth [3]int
}

// fonts are the CJK font and, for the digits and Latin letters Droid Sans
// Fallback lacks, Go Medium (shipped inside golang.org/x/image).
type fonts struct{ cjk, latin *opentype.Font }

var (
	fontOnce sync.Once
	fontVal  fonts
	fontErr  error
)

func loadFont() (fonts, error) {
	fontOnce.Do(func() {
		data, err := os.ReadFile(FontPath)
		if err != nil {
			fontErr = fmt.Errorf("%w: %w", ErrNoFont, err)
			return
		}
		if fontVal.cjk, err = opentype.Parse(data); err != nil {
			fontErr = fmt.Errorf("cardgen: parse %s: %w", FontPath, err)
			return
		}
		if fontVal.latin, err = opentype.Parse(gomedium.TTF); err != nil {
			fontErr = fmt.Errorf("cardgen: parse Go Medium: %w", err)
		}
	})
	return fontVal, fontErr
}

// Available reports whether the font Render needs is installed.
func Available() bool {
	_, err := loadFont()
	return err == nil
}

// face returns a face of px pixels that draws CJK runes with Droid Sans
// Fallback and the rest with Go Medium.
func face(f fonts, px float64) (font.Face, error) {
	opts := &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone}
	cjk, err := opentype.NewFace(f.cjk, opts)
	if err != nil {
		return nil, err
	}
	latin, err := opentype.NewFace(f.latin, opts)
	if err != nil {
		return nil, err
	}
	return fallbackFace{Face: cjk, latin: latin}, nil
}

// fallbackFace uses latin for runes below U+0100 and the embedded Face for
// the rest (Droid Sans Fallback has no ASCII glyphs). The middle dot of
// minority names (U+00B7) is drawn full-width, as Chinese fonts on the
// cards print it, with Droid's U+30FB.
type fallbackFace struct {
	font.Face
	latin font.Face
}

func (f fallbackFace) pick(r rune) (font.Face, rune) {
	switch {
	case r == '·':
		return f.Face, '・'
	case r < 0x100:
		return f.latin, r
	}
	return f.Face, r
}

func (f fallbackFace) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	ff, r := f.pick(r)
	return ff.Glyph(dot, r)
}

func (f fallbackFace) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	ff, r := f.pick(r)
	return ff.GlyphBounds(r)
}

func (f fallbackFace) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	ff, r := f.pick(r)
	return ff.GlyphAdvance(r)
}

func (f fallbackFace) Kern(r0, r1 rune) fixed.Int26_6 {
	f0, r0 := f.pick(r0)
	f1, r1 := f.pick(r1)
	if f0 != f1 {
		return 0
	}
	return f0.Kern(r0, r1)
}

// Colours of a card.
var (
	labelColor = color.RGBA{R: 0x4d, G: 0x6e, B: 0x92, A: 0xff} // blue-grey
	valueColor = color.RGBA{R: 0x1a, G: 0x1a, B: 0x1e, A: 0xff}
	white      = color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
)

// Layout in card pixels: x of labels and values, baselines of the lines.
const (
	labelX   = 46
	valueX   = 128
	nameY    = 92
	sexY     = 158
	birthY   = 222
	addrY    = 286
	addrStep = 42
	addrMaxW = 380
	numberY  = 470
	numberX  = 300
	portX0   = 566
	portY0   = 62
	portX1   = 800
	portY1   = 372
	radius   = 32
)

// Render draws the front of c as an opaque 856×540 image. The corners
// outside the card's rounded outline are white.
func Render(c Card) (*image.RGBA, error) {
	f, err := loadFont()
	if err != nil {
		return nil, err
	}
	if c.Name == "" || len([]rune(c.Number)) != 18 {
		return nil, errors.New("cardgen: card needs a name and an 18-character number")
	}
	c = c.withDefaults()

	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	drawBackground(img)
	drawPortrait(img)

	labels, err := face(f, 22)
	if err != nil {
		return nil, err
	}
	values, err := face(f, 28)
	if err != nil {
		return nil, err
	}
	name, err := face(f, 32)
	if err != nil {
		return nil, err
	}
	number, err := face(f, 34)
	if err != nil {
		return nil, err
	}

	text(img, labels, labelColor, labelX, nameY, spaced("姓名", 1))
	text(img, name, valueColor, valueX, nameY, c.Name)

	text(img, labels, labelColor, labelX, sexY, spaced("性别", 1))
	text(img, values, valueColor, valueX, sexY, c.Sex)
	text(img, labels, labelColor, 232, sexY, spaced("民族", 1))
	text(img, values, valueColor, 314, sexY, c.Ethnicity)

	text(img, labels, labelColor, labelX, birthY, spaced("出生", 1))
	x := text(img, values, valueColor, valueX, birthY, fmt.Sprint(c.Birth[0]))
	x = text(img, labels, labelColor, x+10, birthY, "年")
	x = text(img, values, valueColor, x+14, birthY, fmt.Sprint(c.Birth[1]))
	x = text(img, labels, labelColor, x+10, birthY, "月")
	x = text(img, values, valueColor, x+14, birthY, fmt.Sprint(c.Birth[2]))
	text(img, labels, labelColor, x+10, birthY, "日")

	text(img, labels, labelColor, labelX, addrY, spaced("住址", 1))
	for i, line := range wrap(values, c.Address, addrMaxW, 3) {
		text(img, values, valueColor, valueX, addrY+i*addrStep, line)
	}

	text(img, labels, labelColor, labelX, numberY, "公民身份号码")
	x = numberX
	for _, r := range c.Number {
		x = text(img, number, valueColor, x, numberY, string(r)) + 3
	}

	roundCorners(img, radius, white)
	return img, nil
}

func (c Card) withDefaults() Card {
	n := c.Number
	if c.Sex == "" {
		c.Sex = "女"
		if d := n[16]; d >= '0' && d <= '9' && (d-'0')%2 == 1 {
			c.Sex = "男"
		}
	}
	if c.Ethnicity == "" {
		c.Ethnicity = "汉"
	}
	if c.Birth == [3]int{} {
		c.Birth = [3]int{digits(n[6:10]), digits(n[10:12]), digits(n[12:14])}
	}
	if c.Address == "" {
		c.Address = "北京市东城区景山前街4号"
	}
	return c
}

func digits(s string) int {
	v := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			v = v*10 + int(r-'0')
		}
	}
	return v
}

// spaced puts n spaces between the runes of s, as labels are printed.
func spaced(s string, n int) string {
	rs := []rune(s)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, strings.Repeat(" ", n))
}

// text draws s with its baseline at y and returns the x after it.
func text(dst *image.RGBA, f font.Face, c color.Color, x, y int, s string) int {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
	return d.Dot.X.Round()
}

// wrap breaks s into at most max lines no wider than w pixels.
func wrap(f font.Face, s string, w, max int) []string {
	var lines []string
	var cur []rune
	for _, r := range s {
		if font.MeasureString(f, string(append(cur, r))).Round() > w && len(cur) > 0 {
			lines = append(lines, string(cur))
			cur = nil
			if len(lines) == max {
				return lines
			}
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// drawBackground paints the pale gradient and guilloche-like wave pattern.
func drawBackground(img *image.RGBA) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			fx, fy := float64(x)/Width, float64(y)/Height
			r := 232 + 14*fx - 4*fy
			g := 238 + 4*fy - 3*fx
			bl := 244 - 10*fx + 2*fy
			// Two families of fine waves, a few levels darker, like the
			// printed security pattern.
			w1 := math.Sin(float64(x)*0.09 + 6*math.Sin(float64(y)*0.045))
			w2 := math.Sin(float64(y)*0.11 + 5*math.Sin(float64(x)*0.02))
			d := 0.0
			if w1 > 0.93 {
				d += 14
			}
			if w2 > 0.95 {
				d += 10
			}
			// A faint rosette behind the middle.
			cx, cy := float64(x)-360, float64(y)-300
			rr := math.Hypot(cx, cy)
			if rr < 170 && math.Sin(rr*0.35+8*math.Atan2(cy, cx)) > 0.9 {
				d += 9
			}
			img.SetRGBA(x, y, color.RGBA{R: clamp(r - d), G: clamp(g - d*0.8), B: clamp(bl - d*0.5), A: 0xff})
		}
	}
}

// drawPortrait draws a grey placeholder with a head-and-shoulders outline.
func drawPortrait(img *image.RGBA) {
	for y := portY0; y < portY1; y++ {
		for x := portX0; x < portX1; x++ {
			v := 205.0 - 20*float64(y-portY0)/float64(portY1-portY0)
			fx, fy := float64(x), float64(y)
			cx := float64(portX0+portX1) / 2
			// head
			if sq((fx-cx)/62)+sq((fy-190)/80) < 1 {
				v = 150
			}
			// shoulders
			if fy > 262 && sq((fx-cx)/112)+sq((fy-372)/105) < 1 {
				v = 120
			}
			img.SetRGBA(x, y, color.RGBA{R: clamp(v), G: clamp(v), B: clamp(v + 4), A: 0xff})
		}
	}
}

func sq(v float64) float64 { return v * v }

func clamp(v float64) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v + 0.5)
}

// insideRounded reports how much of pixel (x, y) lies inside a rounded
// rectangle of size w×h and corner radius r (0..1, anti-aliased).
func insideRounded(x, y, w, h, r int) float64 {
	fx, fy := float64(x)+0.5, float64(y)+0.5
	cx := math.Min(math.Max(fx, float64(r)), float64(w-r))
	cy := math.Min(math.Max(fy, float64(r)), float64(h-r))
	d := math.Hypot(fx-cx, fy-cy)
	return math.Min(math.Max(float64(r)-d+0.5, 0), 1)
}

// roundCorners blends the pixels outside the rounded outline into bg.
func roundCorners(img *image.RGBA, r int, bg color.RGBA) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	for y := 0; y < h; y++ {
		if y >= r && y < h-r {
			continue
		}
		for x := 0; x < w; x++ {
			a := insideRounded(x, y, w, h, r)
			if a >= 1 {
				continue
			}
			p := img.RGBAAt(b.Min.X+x, b.Min.Y+y)
			img.SetRGBA(b.Min.X+x, b.Min.Y+y, color.RGBA{
				R: clamp(float64(p.R)*a + float64(bg.R)*(1-a)),
				G: clamp(float64(p.G)*a + float64(bg.G)*(1-a)),
				B: clamp(float64(p.B)*a + float64(bg.B)*(1-a)),
				A: clamp(float64(p.A)*a + float64(bg.A)*(1-a)),
			})
		}
	}
}
