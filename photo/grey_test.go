package photo

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// refGrey is a slow, obviously correct area-average downscale in float64.
func refGrey(img image.Image, ow, oh int) []float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	sx, sy := float64(w)/float64(ow), float64(h)/float64(oh)
	out := make([]float64, ow*oh)
	rows := newLumaRows(img)
	for y := 0; y < h; y++ {
		row := rows.row(y)
		for x := 0; x < w; x++ {
			l := float64(row[x])
			// Overlap of pixel [x,x+1)×[y,y+1) with each output cell.
			for oy := int(float64(y) / sy); oy < oh && float64(oy)*sy < float64(y+1); oy++ {
				fy := math.Min(float64(y+1), float64(oy+1)*sy) - math.Max(float64(y), float64(oy)*sy)
				for ox := int(float64(x) / sx); ox < ow && float64(ox)*sx < float64(x+1); ox++ {
					fx := math.Min(float64(x+1), float64(ox+1)*sx) - math.Max(float64(x), float64(ox)*sx)
					if fx > 0 && fy > 0 {
						out[oy*ow+ox] += l * fx * fy / (sx * sy)
					}
				}
			}
		}
	}
	return out
}

func TestGreyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ycc := image.NewYCbCr(image.Rect(0, 0, 1283, 777), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = byte(rng.IntN(256))
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = byte(rng.IntN(256)), byte(rng.IntN(256))
	}
	rgba := syntheticCard(700, 500)
	gray := image.NewGray(image.Rect(0, 0, 600, 1000))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 7 / 13)
	}
	sub := ycc.SubImage(image.Rect(100, 50, 1100, 700))
	paletted := image.NewPaletted(image.Rect(0, 0, 530, 300), color.Palette{color.Black, color.White, color.RGBA{200, 100, 50, 255}})
	for i := range paletted.Pix {
		paletted.Pix[i] = byte(rng.IntN(3))
	}
	for _, tc := range []struct {
		name   string
		img    image.Image
		side   int
		ow, oh int
	}{
		{"ycbcr", ycc, 512, 512, 310},
		{"sub-image", sub, 512, 512, 333},
		{"rgba", rgba, 512, 512, 366},
		{"gray portrait", gray, 512, 307, 512},
		{"paletted", paletted, 512, 512, 290},
		{"small, copied", rgba, 1000, 700, 500},
		{"barely reduced", rgba, 699, 699, 499},
		{"to a single pixel", gray, 1, 1, 1},
		{"to a line", rgba, 3, 3, 2},
	} {
		g := Grey(tc.img, tc.side)
		if g.Rect != image.Rect(0, 0, tc.ow, tc.oh) || g.Stride != tc.ow {
			t.Errorf("%s: rect %v stride %d, want %dx%d", tc.name, g.Rect, g.Stride, tc.ow, tc.oh)
			continue
		}
		ref := refGrey(tc.img, tc.ow, tc.oh)
		worst := 0.0
		for i, v := range ref {
			worst = math.Max(worst, math.Abs(float64(g.Pix[i])-v))
		}
		// Rounding to 8 bits plus 1/256 weight quantisation.
		if worst > 1.0 {
			t.Errorf("%s: differs from the reference by up to %.2f", tc.name, worst)
		}
	}
}

// TestLumaRows checks the per-type luma against color.GrayModel.
func TestLumaRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	r := image.Rect(3, 2, 40, 30)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	rgba := image.NewRGBA(r)
	nrgba := image.NewNRGBA(r)
	gray := image.NewGray(r)
	cmyk := image.NewCMYK(r)
	for _, p := range [][]byte{ycc.Y, ycc.Cb, ycc.Cr, rgba.Pix, nrgba.Pix, gray.Pix, cmyk.Pix} {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
	}
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i], nrgba.Pix[i] = 255, 255
	}
	for _, img := range []image.Image{ycc, rgba, nrgba, gray, cmyk} {
		rows := newLumaRows(img)
		for y := 0; y < r.Dy(); y++ {
			row := rows.row(y)
			for x := 0; x < r.Dx(); x++ {
				want := color.GrayModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.Gray).Y
				if m, ok := img.(*image.YCbCr); ok {
					want = m.Y[m.YOffset(r.Min.X+x, r.Min.Y+y)]
				}
				if d := int(row[x]) - int(want); d < -1 || d > 1 {
					t.Fatalf("%T at %d,%d: luma %d, want %d", img, x, y, row[x], want)
				}
			}
		}
	}
}

func TestGreyEmpty(t *testing.T) {
	if g := Grey(image.NewRGBA(image.Rect(0, 0, 0, 10)), 512); len(g.Pix) != 0 {
		t.Errorf("got %v", g.Rect)
	}
	if q := Measure(image.NewRGBA(image.Rect(0, 0, 0, 0))); q != (Quality{}) {
		t.Errorf("empty picture measured as %+v", q)
	}
}
