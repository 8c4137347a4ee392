package intake

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pensionbot/flows"
)

func TestCardFixtures(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]flows.PhotoProblem{
		"zhang_xiulan.png":         flows.PhotoOK,
		"li_jianguo_photo.jpg":     flows.PhotoOK,
		"zhang_xiulan_blurred.jpg": flows.PhotoBlurred,
		"zhang_xiulan_tiny.jpg":    flows.PhotoTooSmall,
		"not_a_card.pdf":           flows.PhotoNotImage,
	} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "cards", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.CheckCard(context.Background(), data)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", file, got, err, want)
		}
	}
}

// A card photographed in a dark room, one under a lamp's glare, and one
// with the phone's shadow over its right half.
func TestDarkAndGlare(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "cards", "zhang_xiulan.png"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	dark, glare, shadow := image.NewRGBA(b), image.NewRGBA(b), image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := src.At(x, y).RGBA()
			dark.Set(x, y, color.RGBA{uint8(r >> 8 / 5), uint8(g >> 8 / 5), uint8(bl >> 8 / 5), 255})
			if x > b.Dx()/2 {
				shadow.Set(x, y, color.RGBA{uint8(r >> 8 * 2 / 5), uint8(g >> 8 * 2 / 5), uint8(bl >> 8 * 2 / 5), 255})
			} else {
				shadow.Set(x, y, src.At(x, y))
			}
			dx, dy := float64(x-b.Dx()/3)/float64(b.Dx()/3), float64(y-b.Dy()/2)/float64(b.Dy()/2)
			if dx*dx+dy*dy < 1 {
				glare.Set(x, y, color.White)
			} else {
				glare.Set(x, y, src.At(x, y))
			}
		}
	}
	for name, tc := range map[string]struct {
		img  image.Image
		want flows.PhotoProblem
	}{"dark": {dark, flows.PhotoTooDark}, "glare": {glare, flows.PhotoOverexposed}, "shadow": {shadow, flows.PhotoUnevenLight}} {
		var buf bytes.Buffer
		jpeg.Encode(&buf, tc.img, &jpeg.Options{Quality: 90})
		if got, err := c.CheckCard(context.Background(), buf.Bytes()); err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", name, got, err, tc.want)
		}
	}
}

func TestFaces(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/esimov/pigo").Output()
	if err != nil {
		t.Fatalf("find pigo's module: %v", err)
	}
	sample, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "testdata", "sample.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	// pigo's sample is a frontal portrait: it must pass.
	if got, err := c.CheckFace(context.Background(), sample); err != nil || got != flows.PhotoOK {
		t.Errorf("portrait refused: %q %v", got, err)
	}
	card, _ := os.ReadFile(filepath.Join("..", "testdata", "cards", "zhang_xiulan_dark.jpg"))
	if got, _ := c.CheckFace(context.Background(), card); got == flows.PhotoOK {
		t.Errorf("dark card accepted as a face")
	}
	if got, _ := c.CheckFace(context.Background(), []byte("not an image")); got != flows.PhotoNotImage {
		t.Errorf("text accepted: %q", got)
	}
}
