package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Synthetic test pictures. They imitate a phone photo of an ID card on a
// table: a light card with a faint security pattern, rows of dark
// character-like strokes, a portrait blob, a brown table around it, a
// little optical softness and sensor noise. Everything comes from a fixed
// seed, so measurements are reproducible.

// ellipse is an anti-aliased elliptical mask for draw.DrawMask.
type ellipse struct{ cx, cy, rx, ry float64 }

func (e ellipse) ColorModel() color.Model { return color.AlphaModel }

func (e ellipse) Bounds() image.Rectangle {
	return image.Rect(int(e.cx-e.rx)-1, int(e.cy-e.ry)-1, int(e.cx+e.rx)+2, int(e.cy+e.ry)+2)
}

func (e ellipse) At(x, y int) color.Color {
	dx, dy := (float64(x)+0.5-e.cx)/e.rx, (float64(y)+0.5-e.cy)/e.ry
	d := math.Sqrt(dx*dx+dy*dy) - 1   // < 0 inside
	a := 0.5 - d*math.Min(e.rx, e.ry) // one pixel wide edge
	return color.Alpha{A: uint8(255 * math.Max(0, math.Min(1, a)))}
}

func fill(dst draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Over)
}

func fillEllipse(dst draw.Image, e ellipse, c color.Color) {
	draw.DrawMask(dst, e.Bounds(), image.NewUniform(c), image.Point{}, e, e.Bounds().Min, draw.Over)
}

// syntheticCard renders a w×h photo of an ID card on a table.
func syntheticCard(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// Table: brown gradient with a wood-like grain. The grain
	// sin(0.02x + 3 sin(0.01y)) is expanded with the angle-sum identity so
	// the sines are computed per row and per column, not per pixel.
	sx, cx := make([]float64, w), make([]float64, w)
	for x := range sx {
		sx[x], cx[x] = math.Sincos(float64(x) * 0.02)
	}
	for y := 0; y < h; y++ {
		sy, cy := math.Sincos(3 * math.Sin(float64(y)*0.01))
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			v := 80 + 40*float64(x)/float64(w) + 20*float64(y)/float64(h) + 8*(sx[x]*cy+cx[x]*sy)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = clamp8(v*1.15), clamp8(v*0.85), clamp8(v*0.6), 255
		}
	}
	// Card: 72 % of the width, ID-1 aspect ratio, centred.
	cw := int(0.72 * float64(w))
	ch := int(float64(cw) / 1.585)
	card := image.Rect((w-cw)/2, (h-ch)/2, (w+cw)/2, (h+ch)/2)
	fill(img, card, color.RGBA{236, 238, 242, 255})
	// Security pattern: faint blue waves, sin(0.15x + 4 sin(0.05y)) > 0.9.
	ws, wc := make([]float64, w), make([]float64, w)
	for x := range ws {
		ws[x], wc[x] = math.Sincos(float64(x) * 0.15)
	}
	in := card.Intersect(img.Rect) // a card taller than the frame is cut
	for y := in.Min.Y; y < in.Max.Y; y++ {
		sy, cy := math.Sincos(4 * math.Sin(float64(y)*0.05))
		for x := in.Min.X; x < in.Max.X; x++ {
			if ws[x]*cy+wc[x]*sy > 0.9 {
				i := img.PixOffset(x, y)
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = 210, 222, 238
			}
		}
	}
	// Text: rows of character cells with random strokes.
	ink := color.RGBA{35, 35, 45, 255}
	cell := max(3, ch/14)
	stroke := max(1, cell/10)
	for row := 0; row < 6; row++ {
		y0 := card.Min.Y + ch/10 + row*cell*3/2
		n := 4 + rng.IntN(6)
		if row == 5 { // the ID number line: 18 narrow digits
			n = 18
		}
		for c := 0; c < n; c++ {
			x0 := card.Min.X + cw/6 + c*cell*11/10
			if row == 5 {
				x0 = card.Min.X + cw/4 + c*cell*7/10
			}
			for s := 0; s < 3+rng.IntN(3); s++ {
				if rng.IntN(2) == 0 {
					y := y0 + rng.IntN(cell)
					fill(img, image.Rect(x0+rng.IntN(cell/3+1), y, x0+cell*2/3+rng.IntN(cell/3+1), y+stroke), ink)
				} else {
					x := x0 + rng.IntN(cell*2/3+1)
					fill(img, image.Rect(x, y0+rng.IntN(cell/3+1), x+stroke, y0+cell*2/3+rng.IntN(cell/3+1)), ink)
				}
			}
		}
	}
	// Portrait on the right: hair, face, eyes, mouth.
	px, py := float64(card.Max.X)-0.2*float64(cw), float64(card.Min.Y)+0.42*float64(ch)
	fs := 0.16 * float64(cw)
	fillEllipse(img, ellipse{px, py - 0.25*fs, 0.62 * fs, 0.7 * fs}, color.RGBA{30, 25, 25, 255})
	fillEllipse(img, ellipse{px, py, 0.5 * fs, 0.64 * fs}, color.RGBA{214, 178, 152, 255})
	for _, s := range []float64{-1, 1} {
		fillEllipse(img, ellipse{px + s*0.2*fs, py - 0.08*fs, 0.08 * fs, 0.04 * fs}, color.RGBA{40, 30, 30, 255})
	}
	fillEllipse(img, ellipse{px, py + 0.35*fs, 0.16 * fs, 0.04 * fs}, color.RGBA{150, 80, 80, 255})

	// A camera is never pixel-sharp: soften by a 3×3 box, then add noise.
	boxBlur(img, 1)
	addNoise(img, rng, 2.5)
	return img
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

// addNoise adds the same Gaussian noise of standard deviation sigma to the
// three colour channels of each pixel, as luma noise.
func addNoise(img *image.RGBA, rng *rand.Rand, sigma float64) {
	for i := 0; i < len(img.Pix); i += 4 {
		n := rng.NormFloat64() * sigma
		for c := 0; c < 3; c++ {
			img.Pix[i+c] = clamp8(float64(img.Pix[i+c]) + n)
		}
	}
}

// boxBlur blurs img in place with a (2r+1)² box, horizontally then
// vertically, clamping at the edges.
func boxBlur(img *image.RGBA, r int) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	tmp := make([]uint8, len(img.Pix))
	// pass blurs n samples spaced step bytes apart starting at off, for
	// each of the four channels.
	pass := func(src, dst []uint8, off, n, step int) {
		d := 2*r + 1
		for c := 0; c < 4; c++ {
			at := func(i int) int { return int(src[off+min(max(i, 0), n-1)*step+c]) }
			sum := 0
			for k := -r; k <= r; k++ {
				sum += at(k)
			}
			for i := 0; i < n; i++ {
				dst[off+i*step+c] = uint8((sum + r) / d)
				sum += at(i+r+1) - at(i-r)
			}
		}
	}
	for y := 0; y < h; y++ {
		pass(img.Pix, tmp, y*img.Stride, w, 4)
	}
	for x := 0; x < w; x++ {
		pass(tmp, img.Pix, 4*x, h, img.Stride)
	}
}

// mapRGB returns a copy of img with the tone curve f applied to every
// colour channel.
func mapRGB(img *image.RGBA, f func(float64) float64) *image.RGBA {
	var lut [256]uint8
	for v := range lut {
		lut[v] = clamp8(f(float64(v)))
	}
	dst := image.NewRGBA(img.Rect)
	copy(dst.Pix, img.Pix)
	for i := 0; i < len(dst.Pix); i += 4 {
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = lut[dst.Pix[i]], lut[dst.Pix[i+1]], lut[dst.Pix[i+2]]
	}
	return dst
}

func blurred(img *image.RGBA, r int) *image.RGBA {
	dst := image.NewRGBA(img.Rect)
	copy(dst.Pix, img.Pix)
	boxBlur(dst, r)
	return dst
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// moduleFile returns the path of file inside the module mod as the go
// command resolves it. When the module or file is missing the test is
// skipped, or fails under CI=true, where the module cache must be complete.
func moduleFile(t testing.TB, mod, file string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	dir := strings.TrimSpace(string(out))
	p := filepath.Join(dir, filepath.FromSlash(file))
	if err == nil && dir != "" {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	msg := "cannot find " + file + " of " + mod + ": " + errString(err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func errString(err error) string {
	if err == nil {
		return "empty module directory"
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return err.Error()
}

func readModuleFile(t testing.TB, mod, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(moduleFile(t, mod, file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
