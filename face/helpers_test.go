package face

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"

	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// moduleFile returns the path of file inside module mod as the go command
// resolves it. If it cannot be found the test is skipped, or fails under
// CI=true, where the module cache must be complete.
func moduleFile(t testing.TB, mod, file string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	dir := strings.TrimSpace(string(out))
	if err == nil && dir != "" {
		p := filepath.Join(dir, filepath.FromSlash(file))
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	msg := "cannot find " + file + " of " + mod
	if err != nil {
		msg += ": " + err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + strings.TrimSpace(string(ee.Stderr))
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

var (
	sampleOnce  sync.Once
	sampleBytes []byte
	sampleErr   error
)

// sampleJPEG returns pigo's testdata/sample.jpg: a frontal portrait, 320×400.
func sampleJPEG(t testing.TB) []byte {
	t.Helper()
	path := moduleFile(t, "github.com/esimov/pigo", "testdata/sample.jpg")
	sampleOnce.Do(func() { sampleBytes, sampleErr = os.ReadFile(path) })
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleBytes
}

// sample decodes the portrait as an *image.RGBA.
func sample(t testing.TB) *image.RGBA {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(sampleJPEG(t)))
	if err != nil {
		t.Fatal(err)
	}
	return toRGBA(img)
}

func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// resize scales img to w×h with Catmull-Rom.
func resize(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// crop copies r out of img.
func crop(img image.Image, r image.Rectangle) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	return dst
}

// onCanvas places img scaled to height ph on a w×h canvas of a wall-like
// light grey with a soft gradient, its centre at (cx, cy).
func onCanvas(img image.Image, w, h, ph, cx, cy int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			v := uint8(200 + 30*float64(x)/float64(w) - 20*float64(y)/float64(h))
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v-5, v-12, 255
		}
	}
	b := img.Bounds()
	pw := ph * b.Dx() / b.Dy()
	r := image.Rect(cx-pw/2, cy-ph/2, cx-pw/2+pw, cy-ph/2+ph)
	xdraw.CatmullRom.Scale(dst, r, img, b, draw.Src, nil)
	return dst
}

// flat is a uniform picture.
func flat(w, h int, c color.RGBA) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return dst
}

// noise is uniformly random grey pixels, the texture most likely to fool a
// pixel-comparison detector; with smooth > 1 the random pixels are that
// many times larger and interpolated, a blotchy texture like foliage or a
// patterned wall.
func noise(w, h int, seed uint64, smooth int) image.Image {
	rng := rand.New(rand.NewPCG(seed, 99))
	smooth = max(smooth, 1)
	g := image.NewGray(image.Rect(0, 0, w/smooth, h/smooth))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	if smooth == 1 {
		return g
	}
	dst := image.NewGray(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), g, g.Bounds(), draw.Src, nil)
	return dst
}

// textCard is an ID-card-like picture with rows of dark strokes and no
// portrait: the back of the card, or a document sent by mistake.
func textCard(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(11, 12))
	dst := flat(w, h, color.RGBA{90, 70, 55, 255})
	card := image.Rect(w/8, h/6, w*7/8, h*5/6)
	draw.Draw(dst, card, image.NewUniform(color.RGBA{232, 234, 238, 255}), image.Point{}, draw.Src)
	ink := image.NewUniform(color.RGBA{30, 30, 40, 255})
	cell := card.Dy() / 12
	for row := 0; row < 7; row++ {
		y0 := card.Min.Y + cell + row*cell*3/2
		for c := 0; c < 14; c++ {
			x0 := card.Min.X + cell + c*cell*11/10
			for s := 0; s < 4; s++ {
				if rng.IntN(2) == 0 {
					y := y0 + rng.IntN(cell)
					draw.Draw(dst, image.Rect(x0, y, x0+cell*3/4, y+max(2, cell/10)), ink, image.Point{}, draw.Src)
				} else {
					x := x0 + rng.IntN(cell*3/4)
					draw.Draw(dst, image.Rect(x, y0, x+max(2, cell/10), y0+cell), ink, image.Point{}, draw.Src)
				}
			}
		}
	}
	return dst
}

// sideBySide joins pictures of equal height left to right.
func sideBySide(imgs ...image.Image) *image.RGBA {
	w, h := 0, 0
	for _, m := range imgs {
		w += m.Bounds().Dx()
		h = max(h, m.Bounds().Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	x := 0
	for _, m := range imgs {
		b := m.Bounds()
		draw.Draw(dst, image.Rect(x, 0, x+b.Dx(), b.Dy()), m, b.Min, draw.Src)
		x += b.Dx()
	}
	return dst
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
