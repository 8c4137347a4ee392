package cardgen

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"
)

func needFont(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: run scripts/install-deps.sh", FontPath)
	}
	t.Skipf("%s is missing: run scripts/install-deps.sh", FontPath)
}

// ink counts dark pixels in r.
func ink(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if int(p.R)+int(p.G)+int(p.B) < 3*100 {
				n++
			}
		}
	}
	return n
}

func TestRender(t *testing.T) {
	needFont(t)
	img, err := Render(ZhangXiulan)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Fatalf("size %v", b)
	}
	// The number, the name and the portrait's darker shoulders leave dark
	// pixels where they belong, and the background leaves none.
	if n := ink(img, image.Rect(numberX, numberY-30, numberX+420, numberY+5)); n < 1500 {
		t.Errorf("number line has %d dark pixels", n)
	}
	if n := ink(img, image.Rect(valueX, nameY-30, valueX+110, nameY+5)); n < 300 {
		t.Errorf("name has %d dark pixels", n)
	}
	if n := ink(img, image.Rect(0, numberY+20, Width, Height)); n != 0 {
		t.Errorf("bottom margin has %d dark pixels", n)
	}
	if p := img.RGBAAt(0, 0); p.R != 255 || p.G != 255 || p.B != 255 {
		t.Errorf("corner = %v, want white", p)
	}

	again, err := Render(ZhangXiulan)
	if err != nil || !bytes.Equal(img.Pix, again.Pix) {
		t.Errorf("Render is not deterministic (err %v)", err)
	}
	other, _ := Render(WangWei)
	if bytes.Equal(img.Pix, other.Pix) {
		t.Error("different cards render the same")
	}
}

func TestRenderRejects(t *testing.T) {
	needFont(t)
	for _, c := range []Card{{Number: ZhangXiulan.Number}, {Name: "王伟", Number: "1101"}} {
		if _, err := Render(c); err == nil {
			t.Errorf("Render(%+v) succeeded", c)
		}
	}
}

func TestVariants(t *testing.T) {
	needFont(t)
	card, err := Render(LiJianguo)
	if err != nil {
		t.Fatal(err)
	}
	orig := append([]byte(nil), card.Pix...)
	mean := func(img *image.RGBA) float64 {
		s, n := 0, 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				p := img.RGBAAt(x, y)
				s += int(p.R) + int(p.G) + int(p.B)
				n += 3
			}
		}
		return float64(s) / float64(n)
	}
	tests := []struct {
		name string
		img  *image.RGBA
		w, h int
	}{
		{"Dark", Dark(card), Width, Height},
		{"Blurred", Blurred(card, 2), Width, Height},
		{"Tiny", Tiny(card, 360), 360, 227},
		{"Glare", Glare(card), Width, Height},
		{"OnTable", OnTable(card, 3), PhotoWidth, PhotoHeight},
	}
	for _, tt := range tests {
		if b := tt.img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("%s: size %v, want %dx%d", tt.name, b, tt.w, tt.h)
		}
	}
	if !bytes.Equal(card.Pix, orig) {
		t.Error("a variant changed its input")
	}
	if m, d := mean(card), mean(tests[0].img); d > m/2 {
		t.Errorf("Dark: mean %.0f, card %.0f", d, m)
	}
	if m, g := mean(card), mean(tests[3].img); g <= m {
		t.Errorf("Glare: mean %.0f, card %.0f", g, m)
	}
	if n, b := ink(card, card.Bounds()), ink(tests[1].img, card.Bounds()); b >= n {
		t.Errorf("Blurred: %d dark pixels, card %d", b, n)
	}
	// The table is darker than the card in the middle of the photo.
	photo := tests[4].img
	if c, e := mean(photo.SubImage(image.Rect(600, 700, 700, 760)).(*image.RGBA)), mean(photo.SubImage(image.Rect(0, 0, 100, 100)).(*image.RGBA)); c < e+60 {
		t.Errorf("OnTable: card's bottom (mean %.0f) not much lighter than the table (%.0f)", c, e)
	}
}

// TestFixtureFiles checks that testdata/cards holds every fixture and that
// each decodes to the expected size (regenerate with go run ./cmd/gencards).
func TestFixtureFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "cards")
	total := int64(0)
	for _, f := range Fixtures() {
		data, err := os.ReadFile(filepath.Join(dir, f.File))
		if err != nil {
			t.Errorf("%v (run go run ./cmd/gencards)", err)
			continue
		}
		total += int64(len(data))
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if f.Variant == VariantNotImage {
			if err == nil {
				t.Errorf("%s decodes as an image", f.File)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", f.File, err)
			continue
		}
		w, h := Width, Height
		switch f.Variant {
		case VariantPhoto:
			w, h = PhotoWidth, PhotoHeight
		case VariantTiny:
			w, h = 360, 227
		}
		if cfg.Width != w || cfg.Height != h {
			t.Errorf("%s is %dx%d, want %dx%d", f.File, cfg.Width, cfg.Height, w, h)
		}
	}
	if total > 2<<20 {
		t.Errorf("fixtures take %d bytes, keep them under 2 MiB", total)
	}
}

func TestFixtureEncode(t *testing.T) {
	needFont(t)
	seen := map[string]bool{}
	for _, f := range Fixtures() {
		// One fixture of each kind of file is enough here.
		kind := filepath.Ext(f.File)
		if seen[kind] || f.Variant != VariantClean && f.Variant != VariantNotImage {
			continue
		}
		seen[kind] = true
		data, err := f.Encode()
		if err != nil {
			t.Fatalf("%s: %v", f.File, err)
		}
		_, format, err := image.DecodeConfig(bytes.NewReader(data))
		switch {
		case f.Variant == VariantNotImage:
			if err == nil {
				t.Errorf("%s decodes as %s", f.File, format)
			}
		case err != nil:
			t.Errorf("%s: %v", f.File, err)
		case "."+format != kind && !(format == "jpeg" && kind == ".jpg"):
			t.Errorf("%s encoded as %s", f.File, format)
		}
	}
}

func TestShoot(t *testing.T) {
	needFont(t)
	card, err := Render(WangWei)
	if err != nil {
		t.Fatal(err)
	}
	plain := ShootImage(card, Shot{})
	if b := plain.Bounds(); b.Dx() != PhotoWidth || b.Dy() != PhotoHeight {
		t.Fatalf("default shot is %v", b)
	}
	if again := ShootImage(card, Shot{}); !bytes.Equal(plain.Pix, again.Pix) {
		t.Error("ShootImage is not deterministic")
	}
	// The card lies in the middle of the frame, lighter than the table.
	mean := func(img *image.RGBA, r image.Rectangle) float64 {
		s, n := 0, 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				p := img.RGBAAt(x, y)
				s += int(p.R) + int(p.G) + int(p.B)
				n += 3
			}
		}
		return float64(s) / float64(n)
	}
	mid, edge := image.Rect(400, 300, 440, 340), image.Rect(0, 0, 60, 60)
	if m, e := mean(plain, mid), mean(plain, edge); m < e+60 {
		t.Errorf("card (mean %.0f) not lighter than the table (%.0f)", m, e)
	}
	turned := ShootImage(card, Shot{QuarterTurns: 1, Width: 800, Height: 600})
	if b := turned.Bounds(); b.Dx() != 600 || b.Dy() != 800 {
		t.Errorf("a quarter turn of 800×600 is %v", b)
	}
	// The shadow darkens the card's right half (ShadowDegrees 0).
	shadow := ShootImage(card, Shot{Shadow: 0.4})
	left, right := image.Rect(300, 600, 340, 630), image.Rect(880, 600, 920, 630) // below the text and the portrait
	if l, r := mean(shadow, left), mean(shadow, right); r > l*0.5 {
		t.Errorf("shadow: right half %.0f, left half %.0f", r, l)
	}
	for _, s := range []Shot{{Backdrop: BackdropCloth}, {Backdrop: BackdropClutter}, {Tilt: 0.1}, {MotionBlur: 5}, {Warm: 1}} {
		if bytes.Equal(ShootImage(card, s).Pix, plain.Pix) {
			t.Errorf("%+v looks like the plain shot", s)
		}
	}
}

func TestShotFixtures(t *testing.T) {
	fs := ShotFixtures()
	if len(fs) < 40 {
		t.Errorf("%d shot fixtures, want at least 40", len(fs))
	}
	names := map[string]bool{}
	kinds := map[string]int{}
	for _, f := range fs {
		if names[f.Name] {
			t.Errorf("two fixtures named %s", f.Name)
		}
		names[f.Name] = true
		kinds[f.Kind]++
	}
	for _, k := range []string{"turned", "sideways", "upside-down", "perspective", "small-clutter", "jpeg15", "shadow", "motion", "noise", "warm", "small", "cloth"} {
		if kinds[k] == 0 {
			t.Errorf("no fixture of kind %s", k)
		}
	}
	for _, c := range People {
		if len(c.Number) != 18 {
			t.Errorf("%s: number %q", c.Name, c.Number)
		}
	}
}
