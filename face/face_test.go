package face

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"sync"
	"testing"

	"pensionbot/photo"
)

func detector(t testing.TB) *Detector {
	t.Helper()
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// viaJPEG sends img through a JPEG round trip at Telegram's photo quality
// and photo.Decode, as a selfie reaches the bot.
func viaJPEG(t testing.TB, img image.Image) image.Image {
	t.Helper()
	m, _, err := photo.Decode(encodeJPEG(t, img, 87), photo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// selfie crops the largest face of the sample with a margin of 60 % of its
// size on each side (as much as the picture has) and scales the crop to a
// 960×1280 portrait, a phone's front-camera picture.
func selfie(t testing.TB, d *Detector) image.Image {
	t.Helper()
	s := sample(t)
	faces := d.Detect(s)
	if len(faces) == 0 {
		t.Fatal("no face in the sample")
	}
	f := faces[0]
	m := f.Size * 6 / 10
	r := image.Rect(f.X-f.Size/2-m, f.Y-f.Size/2-m, f.X+f.Size/2+m, f.Y+f.Size/2+m*3/2).Intersect(s.Bounds())
	return viaJPEG(t, resize(crop(s, r), 960, 1280))
}

func TestSampleDetect(t *testing.T) {
	d := detector(t)
	faces := d.Detect(sample(t))
	t.Logf("sample: %+v", faces)
	if len(faces) != 1 {
		t.Fatalf("found %d faces in the sample portrait, want 1", len(faces))
	}
	// The face is centred, between the ears about 230 px wide.
	f := faces[0]
	if f.X < 140 || f.X > 180 || f.Y < 180 || f.Y > 220 || f.Size < 200 || f.Size > 260 {
		t.Errorf("face at %d,%d size %d; want near 160,200 size 230", f.X, f.Y, f.Size)
	}
}

func TestSelfie(t *testing.T) {
	d := detector(t)
	img := selfie(t, d)
	f, p := d.Check(img)
	t.Logf("selfie: %+v %q", f, p)
	if p != OK {
		t.Fatalf("selfie: %q, want OK (%+v)", p, f)
	}
	b := img.Bounds()
	if f.X < b.Dx()*4/10 || f.X > b.Dx()*6/10 || float64(f.Size) < 0.5*float64(b.Dx()) {
		t.Errorf("selfie face at %+v in %v: not centred or too small", f, b)
	}
	// The photo-quality checks agree that it is usable.
	if q := photo.Measure(img); q.Problem(photo.DefaultLimits) != photo.OK {
		t.Errorf("selfie quality: %q (%+v)", q.Problem(photo.DefaultLimits), q)
	}
}

// TestPlacement checks that coordinates map back to the input picture,
// whatever its size, orientation and bounds.
func TestPlacement(t *testing.T) {
	d := detector(t)
	s := sample(t)
	for _, tc := range []struct {
		name             string
		w, h, ph, cx, cy int
		want             Problem
	}{
		{"landscape, centred", 1280, 960, 800, 640, 480, OK},
		{"landscape, left", 1280, 960, 600, 350, 480, OK},
		{"portrait, low", 960, 1280, 700, 480, 800, OK},
		{"far away", 1280, 960, 250, 640, 480, FaceTooSmall},
		{"chin below the edge", 1280, 960, 800, 640, 700, FaceCutOff},
	} {
		img := viaJPEG(t, onCanvas(s, tc.w, tc.h, tc.ph, tc.cx, tc.cy))
		f, p := d.Check(img)
		t.Logf("%-20s %+v %q", tc.name, f, p)
		if p != tc.want {
			t.Errorf("%s: %q, want %q (%+v)", tc.name, p, tc.want, f)
		}
		if p == NoFace {
			continue
		}
		// The sample's face centre is at about (0.49, 0.50) of the
		// portrait and 0.72 of its width wide.
		scale := float64(tc.ph) / 400
		wantX, wantY := float64(tc.cx)+scale*(157-160), float64(tc.cy)+scale*(198-200)
		if d := abs(float64(f.X)-wantX) + abs(float64(f.Y)-wantY); d > 0.1*float64(tc.ph) {
			t.Errorf("%s: face at %d,%d, want near %.0f,%.0f", tc.name, f.X, f.Y, wantX, wantY)
		}
		if r := float64(f.Size) / (230 * scale); r < 0.8 || r > 1.25 {
			t.Errorf("%s: face size %d, want about %.0f", tc.name, f.Size, 230*scale)
		}
	}

	// A sub-image: coordinates stay in the parent's space.
	canvas := onCanvas(s, 1600, 1200, 800, 900, 700)
	sub := canvas.SubImage(image.Rect(300, 200, 1580, 1160))
	faces := d.Detect(sub)
	if len(faces) != 1 || abs(float64(faces[0].X)-900) > 40 || abs(float64(faces[0].Y)-700) > 40 {
		t.Errorf("sub-image: %+v, want one face near 900,700", faces)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestNoFace(t *testing.T) {
	d := detector(t)
	cases := map[string]image.Image{
		"flat grey":  flat(1280, 960, color.RGBA{180, 170, 160, 255}),
		"flat black": flat(960, 1280, color.RGBA{0, 0, 0, 255}),
		"text card":  textCard(1280, 960),
		"tiny":       flat(10, 10, color.RGBA{200, 150, 120, 255}),
		"empty":      image.NewRGBA(image.Rect(0, 0, 0, 0)),
	}
	for i, grain := range []int{1, 4, 16} {
		cases[fmt.Sprintf("noise, grain %d", grain)] = noise(1280, 960, uint64(i+1), grain)
	}
	if p := moduleFile(t, "golang.org/x/image", "testdata/go-turns-two-280x360.jpeg"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := photo.Decode(data, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		cases["gopher cartoon"] = img
	}
	var worst float32
	for name, img := range cases {
		all := d.detect(img, 0)
		for _, f := range all {
			worst = max(worst, f.Q)
		}
		if len(all) > 0 && all[0].Q >= MinQuality {
			t.Errorf("%s: found %+v, want no face", name, all)
		}
	}
	t.Logf("best score among pictures without a face: %.2f (threshold %v)", worst, MinQuality)

	// Random blotches are the hardest case for pixel comparisons: a rare
	// one passes, see MinQuality.
	hits, n := 0, 0
	for _, grain := range []int{12, 16, 24, 32} {
		for seed := uint64(1); seed <= 3; seed++ {
			n++
			if faces := d.Detect(noise(960, 1280, seed, grain)); len(faces) > 0 {
				hits++
				t.Logf("blotches %d/%d: %+v", grain, seed, faces)
			}
		}
	}
	if hits > n/10 {
		t.Errorf("%d of %d blotchy textures taken for faces", hits, n)
	}
	if _, p := d.Check(cases["flat grey"]); p != NoFace {
		t.Errorf("flat grey: %q, want no_face", p)
	}
}

// TestDegradedSelfie: poor but usable selfies must still show a face.
func TestDegradedSelfie(t *testing.T) {
	d := detector(t)
	base := onCanvas(sample(t), 1280, 960, 700, 640, 480)
	small := resize(base, 160, 120)
	for name, img := range map[string]image.Image{
		"dark x0.3":         tone(base, func(v float64) float64 { return v * 0.3 }),
		"contrast x0.3":     tone(base, func(v float64) float64 { return 128 + (v-128)*0.3 }),
		"washed out":        tone(base, func(v float64) float64 { return v*1.3 + 30 }),
		"blurred (8x down)": resize(small, 1280, 960),
		"JPEG quality 30":   func() image.Image { m, _, _ := photo.Decode(encodeJPEG(t, base, 30), photo.Limits{}); return m }(),
	} {
		f, p := d.Check(img)
		t.Logf("%-18s %+v %q", name, f, p)
		if p != OK {
			t.Errorf("%s: %q, want OK", name, p)
		}
	}
}

// tone applies a tone curve to the colour channels.
func tone(img *image.RGBA, f func(float64) float64) *image.RGBA {
	dst := image.NewRGBA(img.Rect)
	for i, v := range img.Pix {
		if i%4 == 3 {
			dst.Pix[i] = v
			continue
		}
		dst.Pix[i] = uint8(max(0, min(255, f(float64(v)))))
	}
	return dst
}

func TestManyFaces(t *testing.T) {
	d := detector(t)
	s := sample(t)
	img := viaJPEG(t, sideBySide(s, s))
	faces := d.Detect(img)
	if len(faces) != 2 || (faces[0].X < 320) == (faces[1].X < 320) {
		t.Errorf("two portraits side by side: %+v, want one face in each half", faces)
	}
	if _, p := d.Check(img); p != ManyFaces {
		t.Errorf("two portraits: %q, want many_faces", p)
	}
	// The same with the second person smaller, a helper further back but
	// still in the picture: counts. Much smaller: does not.
	for _, tc := range []struct {
		ph   int
		want Problem
	}{{500, ManyFaces}, {250, OK}} {
		big := onCanvas(s, 1280, 960, 800, 420, 480)
		small := onCanvas(s, 400, 960, tc.ph, 200, 480)
		f, p := d.Check(viaJPEG(t, sideBySide(crop(big, image.Rect(0, 0, 880, 960)), small)))
		if p != tc.want {
			t.Errorf("second face %d px tall: %q, want %q (%+v)", tc.ph, p, tc.want, f)
		}
	}
}

func TestFaceCutOff(t *testing.T) {
	d := detector(t)
	s := sample(t)
	for _, tc := range []struct {
		name string
		r    image.Rectangle
		want []Problem
	}{
		{"left half of the face", image.Rect(0, 0, 160, 400), []Problem{FaceCutOff, NoFace}},
		{"right 60 %", image.Rect(130, 0, 320, 400), []Problem{FaceCutOff, NoFace}},
		{"below the eyes", image.Rect(0, 190, 320, 400), []Problem{FaceCutOff, NoFace}},
		{"left ear cut", image.Rect(55, 0, 320, 400), []Problem{FaceCutOff}},
		{"chin cut", image.Rect(0, 0, 320, 335), []Problem{FaceCutOff}},
		{"forehead cut", image.Rect(0, 85, 320, 400), []Problem{FaceCutOff}},
		{"only hair trimmed", image.Rect(0, 40, 320, 400), []Problem{OK}},
		{"chin just inside", image.Rect(0, 0, 320, 370), []Problem{OK}},
	} {
		img := crop(s, tc.r)
		f, p := d.Check(img)
		ok := false
		for _, w := range tc.want {
			ok = ok || p == w
		}
		t.Logf("%-22s %+v %q", tc.name, f, p)
		if !ok {
			t.Errorf("%s: %q, want one of %q (%+v)", tc.name, p, tc.want, f)
		}
	}
}

// TestConcurrent runs one Detector from several goroutines; with -race it
// also checks that detection shares no mutable state.
func TestConcurrent(t *testing.T) {
	d := detector(t)
	d2 := detector(t)
	if d.classifier != d2.classifier {
		t.Error("the cascade was unpacked twice")
	}
	imgs := []image.Image{sample(t), sideBySide(sample(t), sample(t)), textCard(640, 480)}
	want := make([][]Face, len(imgs))
	for i, img := range imgs {
		want[i] = d.Detect(img)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, img := range imgs {
				got := d.Detect(img)
				if len(got) != len(want[i]) {
					t.Errorf("goroutine %d, image %d: %d faces, want %d", g, i, len(got), len(want[i]))
					continue
				}
				for k := range got {
					if got[k] != want[i][k] {
						t.Errorf("goroutine %d, image %d: %+v, want %+v", g, i, got[k], want[i][k])
					}
				}
			}
		}()
	}
	wg.Wait()
}

// photo1280 is the sample framed as a 1280×960 phone photo, as JPEG.
func photo1280(b *testing.B) []byte {
	return encodeJPEG(b, onCanvas(sample(b), 1280, 960, 800, 640, 480), 90)
}

func BenchmarkDetect1280x960(b *testing.B) {
	d := detector(b)
	img, _, err := photo.Decode(photo1280(b), photo.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(d.Detect(img)) != 1 {
			b.Fatal("face not found")
		}
	}
}

// BenchmarkSelfieIntake1280x960 is the whole path of a selfie: decode,
// quality checks, face check.
func BenchmarkSelfieIntake1280x960(b *testing.B) {
	d := detector(b)
	data := photo1280(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		img, _, err := photo.Decode(data, photo.DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		if p := photo.Measure(img).Problem(photo.DefaultLimits); p != photo.OK {
			b.Fatal(p)
		}
		if _, p := d.Check(img); p != OK {
			b.Fatal(p)
		}
	}
}
