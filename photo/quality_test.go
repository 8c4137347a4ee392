package photo

import (
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"
)

var (
	cleanOnce sync.Once
	cleanCard *image.RGBA
)

// clean1280 is the synthetic card photo at Telegram's photo size, made once.
func clean1280() *image.RGBA {
	cleanOnce.Do(func() { cleanCard = syntheticCard(1280, 960) })
	return cleanCard
}

// viaJPEG sends img through a JPEG round trip and Decode, as a photo from
// Telegram would arrive.
func viaJPEG(t testing.TB, img image.Image) image.Image {
	t.Helper()
	m, _, err := Decode(encodeJPEG(t, img, 90), noMin)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func scale(fn func(float64) float64) func(*image.RGBA) *image.RGBA {
	return func(img *image.RGBA) *image.RGBA { return mapRGB(img, fn) }
}

// glare lays a blown-out reflection over the card: an ellipse of pure white
// with a soft rim covering about a fifth of the frame.
func glare(img *image.RGBA) *image.RGBA {
	dst := image.NewRGBA(img.Rect)
	copy(dst.Pix, img.Pix)
	w, h := float64(img.Rect.Dx()), float64(img.Rect.Dy())
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			dx, dy := (float64(x)-0.45*w)/(0.3*w), (float64(y)-0.45*h)/(0.3*h)
			k := math.Min(1, 1.5*math.Exp(-(dx*dx+dy*dy)))
			i := dst.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				p := float64(dst.Pix[i+c])
				dst.Pix[i+c] = clamp8(p + (255-p)*k)
			}
		}
	}
	return dst
}

// noisy adds sensor noise of standard deviation sigma after the blur, as a
// dim, out-of-focus phone photo has.
func noisy(img *image.RGBA, sigma float64) *image.RGBA {
	dst := image.NewRGBA(img.Rect)
	copy(dst.Pix, img.Pix)
	addNoise(dst, rand.New(rand.NewPCG(9, 10)), sigma)
	return dst
}

// TestProblems checks the thresholds on the synthetic card: each variant
// must give its problem, and milder versions of the same defects, which a
// reader or a face check copes with, must still pass. Run with -v to see
// the measurements behind the thresholds.
func TestProblems(t *testing.T) {
	clean := clean1280()
	for _, tc := range []struct {
		name string
		make func(*image.RGBA) *image.RGBA
		want Problem
	}{
		{"clean", nil, OK},
		{"dim x0.4", scale(func(v float64) float64 { return v * 0.4 }), OK},
		{"soft, blur radius 1", func(m *image.RGBA) *image.RGBA { return blurred(m, 1) }, OK},
		{"blur radius 2", func(m *image.RGBA) *image.RGBA { return blurred(m, 2) }, OK},

		{"dark x0.2", scale(func(v float64) float64 { return v * 0.2 }), TooDark},
		{"dark x0.3", scale(func(v float64) float64 { return v * 0.3 }), TooDark},
		{"blown out", scale(func(v float64) float64 { return v*1.6 + 60 }), Overexposed},
		{"glare", glare, Overexposed},
		{"blurred radius 4", func(m *image.RGBA) *image.RGBA { return blurred(m, 4) }, Blurred},
		// Grain must not pass for detail.
		{"blurred radius 4 and noise", func(m *image.RGBA) *image.RGBA { return noisy(blurred(m, 4), 4) }, Blurred},
		{"sharp and noisy", func(m *image.RGBA) *image.RGBA { return noisy(m, 4) }, OK},
		{"gaussian-like, 3 x radius 4", func(m *image.RGBA) *image.RGBA { return blurred(blurred(blurred(m, 4), 4), 4) }, Blurred},
		{"dark and blurred", func(m *image.RGBA) *image.RGBA {
			return blurred(mapRGB(m, func(v float64) float64 { return v * 0.2 }), 4)
		}, TooDark},
	} {
		img := clean
		if tc.make != nil {
			img = tc.make(clean)
		}
		q := Measure(viaJPEG(t, img))
		t.Logf("%-26s brightness %6.1f  clipped %.3f  sharpness %6.1f  -> %q", tc.name, q.Brightness, q.Clipped, q.Sharpness, q.Problem(DefaultLimits))
		if got := q.Problem(DefaultLimits); got != tc.want {
			t.Errorf("%s: %q, want %q (%+v)", tc.name, got, tc.want, q)
		}
	}
}

func TestProblemTooSmall(t *testing.T) {
	q := Measure(syntheticCard(200, 120))
	if got := q.Problem(DefaultLimits); got != TooSmall {
		t.Errorf("200x120: %q, want too_small (%+v)", got, q)
	}
	// The size check goes first: a tiny dark picture is too small.
	q = Measure(mapRGB(syntheticCard(200, 120), func(v float64) float64 { return v * 0.2 }))
	if got := q.Problem(DefaultLimits); got != TooSmall {
		t.Errorf("200x120 dark: %q, want too_small", got)
	}
	if got := q.Problem(Limits{}); got != TooDark {
		t.Errorf("200x120 dark without a minimum: %q, want too_dark", got)
	}
	// Resolution does not matter once the picture is big enough.
	for _, size := range []image.Point{{640, 400}, {2400, 1800}} {
		q := Measure(syntheticCard(size.X, size.Y))
		if got := q.Problem(DefaultLimits); got != OK {
			t.Errorf("%v: %q (%+v)", size, got, q)
		}
	}
}

func TestFlatPicture(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 800, 600))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	q := Measure(img)
	if q.Brightness != 128 || q.Clipped != 0 || q.Sharpness != 0 {
		t.Errorf("flat grey measured as %+v", q)
	}
	if got := q.Problem(DefaultLimits); got != Blurred {
		t.Errorf("flat grey: %q, want blurred", got)
	}
}

// TestRealPortrait uses the real photograph shipped with pigo: a frontal
// portrait on a white background, smooth skin and soft shading, the hardest
// case for a sharpness measure tuned on text.
func TestRealPortrait(t *testing.T) {
	_, f, err := Decode(readModuleFile(t, "github.com/esimov/pigo", "testdata/sample.jpg"), DefaultLimits)
	if err == nil || f != JPEG {
		t.Fatalf("320x400 with default limits: %v, %q; want ErrTooSmall", err, f)
	}
	small := Limits{MinWidth: 320, MinHeight: 320}
	img, _, err := Decode(readModuleFile(t, "github.com/esimov/pigo", "testdata/sample.jpg"), small)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	xdraw.Draw(rgba, rgba.Bounds(), img, image.Point{}, xdraw.Src)
	// As a phone would deliver it: 960×1200, upscaled from the sample.
	phone := image.NewRGBA(image.Rect(0, 0, 960, 1200))
	xdraw.CatmullRom.Scale(phone, phone.Bounds(), img, img.Bounds(), xdraw.Src, nil)

	for _, tc := range []struct {
		name string
		img  image.Image
		lim  Limits
		want Problem
	}{
		{"as is", img, small, OK},
		{"as is, default limits", img, DefaultLimits, TooSmall},
		{"upscaled to 960x1200", phone, DefaultLimits, OK},
		{"blurred radius 1", blurred(rgba, 1), small, Blurred},
		{"blurred radius 4", blurred(rgba, 4), small, Blurred},
		{"upscaled, blurred radius 4", blurred(phone, 4), DefaultLimits, Blurred},
		{"dark", mapRGB(rgba, func(v float64) float64 { return v * 0.2 }), small, TooDark},
		{"blown out", mapRGB(rgba, func(v float64) float64 { return v*1.5 + 40 }), small, Overexposed},
	} {
		q := Measure(tc.img)
		t.Logf("%-28s brightness %6.1f  clipped %.3f  sharpness %6.1f", tc.name, q.Brightness, q.Clipped, q.Sharpness)
		if got := q.Problem(tc.lim); got != tc.want {
			t.Errorf("%s: %q, want %q (%+v)", tc.name, got, tc.want, q)
		}
	}
}

// intake is what the bot does with every picture.
func intake(data []byte) (Problem, error) {
	img, _, err := Decode(data, DefaultLimits)
	if err != nil {
		return "", err
	}
	return Measure(img).Problem(DefaultLimits), nil
}

func BenchmarkIntake1280x960(b *testing.B) {
	data := encodeJPEG(b, clean1280(), 90)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := intake(data)
		if err != nil || p != OK {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkMeasure1280x960(b *testing.B) {
	img, _, err := Decode(encodeJPEG(b, clean1280(), 90), DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Measure(img)
	}
}

func BenchmarkDecodeBomb(b *testing.B) {
	data := pngBomb(100000, 100000)
	b.ReportAllocs()
	for b.Loop() {
		Decode(data, DefaultLimits)
	}
}

// TestJustUnderOldMinimum: photos a little under the old 640×400 minimum
// read well (see DefaultLimits) and must not be refused as too small.
func TestJustUnderOldMinimum(t *testing.T) {
	for _, size := range []image.Point{{600, 450}, {480, 360}, {360, 480}} {
		img := syntheticCard(size.X, size.Y)
		if _, _, err := Decode(encodeJPEG(t, img, 90), DefaultLimits); err != nil {
			t.Errorf("%v: Decode: %v", size, err)
		}
		if got := Measure(img).Problem(DefaultLimits); got == TooSmall {
			t.Errorf("%v: too small", size)
		}
	}
	if got := Measure(syntheticCard(440, 330)).Problem(DefaultLimits); got != TooSmall {
		t.Errorf("440x330: %q, want too_small", got)
	}
}
