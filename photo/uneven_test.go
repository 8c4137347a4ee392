package photo

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"os"
	"testing"

	"pensionbot/internal/cardgen"
)

// shadowed lays a shadow over the right part of img, past x = edge·width,
// leaving the share left of the light, with a soft edge.
func shadowed(img *image.RGBA, edge, left float64) *image.RGBA {
	dst := image.NewRGBA(img.Rect)
	copy(dst.Pix, img.Pix)
	w := float64(img.Rect.Dx())
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			k := 1 / (1 + math.Exp(-(float64(x)-edge*w)/(0.01*w)))
			l := 1 - (1-left)*k
			i := dst.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				dst.Pix[i+c] = clamp8(float64(dst.Pix[i+c]) * l)
			}
		}
	}
	return dst
}

// TestUnevenLight: a shadow over half the card is UnevenLight; the light
// falling off gently, dim light and glare are not.
func TestUnevenLight(t *testing.T) {
	clean := clean1280()
	for _, tc := range []struct {
		name string
		img  image.Image
		want bool
	}{
		{"clean", clean, false},
		{"dim x0.4", scale(func(v float64) float64 { return v * 0.4 })(clean), false},
		{"light falling off to 70 %", shadowedRamp(clean, 0.7), false},
		{"glare", glare(clean), false},
		{"shadow over half, 45 % left", shadowed(clean, 0.5, 0.45), true},
		{"shadow over half, 35 % left", shadowed(clean, 0.5, 0.35), true},
		{"shadow over two thirds, 40 % left", shadowed(clean, 0.35, 0.4), true},
	} {
		q := Measure(viaJPEG(t, tc.img))
		t.Logf("%-34s evenness %.2f -> %q", tc.name, q.Evenness, q.Problem(CardLimits))
		if got := q.Problem(CardLimits) == UnevenLight; got != tc.want {
			t.Errorf("%s: evenness %.2f, uneven %v, want %v", tc.name, q.Evenness, got, tc.want)
		}
	}
}

// shadowedRamp dims img linearly from full light on the left to the share
// end on the right, as a lamp to one side does.
func shadowedRamp(img *image.RGBA, end float64) *image.RGBA {
	dst := image.NewRGBA(img.Rect)
	copy(dst.Pix, img.Pix)
	w := float64(img.Rect.Dx())
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			l := 1 - (1-end)*float64(x)/w
			i := dst.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				dst.Pix[i+c] = clamp8(float64(dst.Pix[i+c]) * l)
			}
		}
	}
	return dst
}

// TestUnevenLightShots measures cardgen's phone shots: those with a shadow
// over half the card are UnevenLight, and no other is, whatever the card
// lies on (wood, a checked cloth, a cluttered desk).
func TestUnevenLightShots(t *testing.T) {
	if !cardgen.Available() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: run scripts/install-deps.sh", cardgen.FontPath)
		}
		t.Skipf("%s is missing: run scripts/install-deps.sh", cardgen.FontPath)
	}
	seen := map[string]int{}
	for _, f := range cardgen.ShotFixtures() {
		// One of each kind keeps the test quick; every shadow.
		if seen[f.Kind] >= 1 && f.Shot.Shadow == 0 {
			continue
		}
		seen[f.Kind]++
		data, err := f.Encode()
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		q := Measure(img)
		want := f.Shot.Shadow > 0 && f.Shot.Shadow <= 0.5
		got := q.Problem(CardLimits) == UnevenLight
		t.Logf("%-18s shadow %.2f evenness %.2f", f.Name, f.Shot.Shadow, q.Evenness)
		if got != want {
			t.Errorf("%s (shadow %.2f): evenness %.2f, uneven %v, want %v", f.Name, f.Shot.Shadow, q.Evenness, got, want)
		}
	}
}
