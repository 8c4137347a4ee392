package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/webp"
)

// noMin accepts any size, for small test pictures.
var noMin = Limits{}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeFormats(t *testing.T) {
	card := syntheticCard(800, 600)
	for _, tc := range []struct {
		name string
		data []byte
		want Format
	}{
		{"jpeg", encodeJPEG(t, card, 90), JPEG},
		{"png", encodePNG(t, card), PNG},
	} {
		img, f, err := Decode(tc.data, DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f != tc.want {
			t.Errorf("%s: format %q, want %q", tc.name, f, tc.want)
		}
		if b := img.Bounds(); b != image.Rect(0, 0, 800, 600) {
			t.Errorf("%s: bounds %v", tc.name, b)
		}
	}
}

func TestDecodeWebP(t *testing.T) {
	const mod = "golang.org/x/image"
	for _, file := range []string{"testdata/video-001.lossy.webp", "testdata/tux.lossless.webp"} {
		img, f, err := Decode(readModuleFile(t, mod, file), noMin)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if f != WebP {
			t.Errorf("%s: format %q", file, f)
		}
		if img.Bounds().Empty() {
			t.Errorf("%s: empty image", file)
		}
	}
}

// TestWebPVideoRange checks that lossy WebP is converted from video range:
// compared with the lossless original, the converted picture must be much
// closer than what x/image/webp returns as it is.
func TestWebPVideoRange(t *testing.T) {
	const mod = "golang.org/x/image"
	data := readModuleFile(t, mod, "testdata/video-001.lossy.webp")
	ref, err := png.Decode(bytes.NewReader(readModuleFile(t, mod, "testdata/video-001.png")))
	if err != nil {
		t.Fatal(err)
	}
	ours, _, err := Decode(data, noMin)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	diff := func(img image.Image) float64 {
		b := ref.Bounds()
		sum := 0.0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				for c, v := range rgb(img.At(x, y)) {
					sum += math.Abs(float64(v) - float64(rgb(ref.At(x, y))[c]))
				}
			}
		}
		return sum / float64(3*b.Dx()*b.Dy())
	}
	dOurs, dRaw := diff(ours), diff(raw)
	t.Logf("mean |RGB difference| to the lossless original: converted %.2f, raw %.2f", dOurs, dRaw)
	if dOurs > 5 || dOurs > dRaw/2 {
		t.Errorf("converted WebP differs by %.2f on average (raw decoder: %.2f)", dOurs, dRaw)
	}
}

func rgb(c color.Color) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

func TestDecodeRefuses(t *testing.T) {
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 800, 600), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	jpg := encodeJPEG(t, syntheticCard(800, 600), 90)
	bmp := append([]byte("BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"), make([]byte, 40)...)
	animated := []byte("RIFF\x00\x01\x00\x00WEBPVP8X\x0a\x00\x00\x00\x12\x00\x00\x00\xff\x01\x00\xff\x01\x00")

	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"empty", nil, DefaultLimits, ErrNotImage},
		{"text", []byte("Hello, I am sending my ID card"), DefaultLimits, ErrNotImage},
		{"text starting with BM", []byte("BMW owners club, membership card attached"), DefaultLimits, ErrNotImage},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), DefaultLimits, ErrNotImage},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), DefaultLimits, ErrNotImage},
		{"gif", gifBuf.Bytes(), DefaultLimits, ErrUnsupported},
		{"bmp", bmp, DefaultLimits, ErrUnsupported},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), DefaultLimits, ErrUnsupported},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), DefaultLimits, ErrUnsupported},
		{"animated webp", animated, DefaultLimits, ErrUnsupported},
		{"truncated jpeg header", jpg[:20], DefaultLimits, ErrNotImage},
		{"truncated jpeg data", jpg[:len(jpg)/2], DefaultLimits, ErrNotImage},
		{"broken png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), DefaultLimits, ErrNotImage},
		{"too many bytes", jpg, Limits{MaxBytes: 1000}, ErrTooLarge},
		{"too many bytes, not even an image", bytes.Repeat([]byte("x"), MaxFileBytes+1), DefaultLimits, ErrTooLarge},
		{"too many pixels", jpg, Limits{MaxPixels: 800*600 - 1}, ErrTooManyPixels},
		{"tiny", encodePNG(t, syntheticCard(200, 120)), DefaultLimits, ErrTooSmall},
		{"narrow", encodePNG(t, syntheticCard(1280, 300)), DefaultLimits, ErrTooSmall},
	} {
		img, _, err := Decode(tc.data, tc.lim)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if img != nil {
			t.Errorf("%s: returned an image along with the error", tc.name)
		}
	}
}

// TestDecodeOrientationAgnosticMinimum: a portrait selfie and a landscape
// card of the same size are both accepted.
func TestDecodeOrientationAgnosticMinimum(t *testing.T) {
	for _, size := range []image.Point{{640, 400}, {400, 640}, {960, 1280}} {
		if _, _, err := Decode(encodePNG(t, image.NewGray(image.Rect(0, 0, size.X, size.Y))), DefaultLimits); err != nil {
			t.Errorf("%v: %v", size, err)
		}
	}
}

// pngBomb is a valid PNG signature and IHDR claiming w×h RGBA pixels, with
// one tiny IDAT: the kind of file that makes a naive decoder allocate
// w·h·4 bytes.
func pngBomb(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		buf.WriteString(typ)
		buf.Write(data)
		binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return buf.Bytes()
}

// jpegBomb is a JPEG whose frame header claims w×h pixels.
func jpegBomb(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
		0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}
	return append(b, 0xFF, 0xD9)
}

// webpBomb is an extended WebP whose canvas claims w×h pixels.
func webpBomb(w, h uint32) []byte {
	b := []byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
	w, h = w-1, h-1
	b = append(b, byte(w), byte(w>>8), byte(w>>16), byte(h), byte(h>>8), byte(h>>16))
	return b
}

func TestDecompressionBomb(t *testing.T) {
	for name, data := range map[string][]byte{
		"png 100000x100000": pngBomb(100000, 100000),
		"png 1x2000000000":  pngBomb(1, 2000000000),
		"jpeg 65000x65000":  jpegBomb(65000, 65000),
		"webp 16000x16000":  webpBomb(16000, 16000),
	} {
		var err error
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(20, func() { _, _, err = Decode(data, DefaultLimits) })
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("%s: got %v, want ErrTooManyPixels", name, err)
		}
		// Headers only: a few small allocations, never a pixel buffer.
		perCall := float64(after.TotalAlloc-before.TotalAlloc) / 21
		if allocs > 30 || perCall > 64<<10 {
			t.Errorf("%s: %.0f allocations, %.0f bytes per call; the header check must not allocate pixels", name, allocs, perCall)
		}
	}
}

func TestErrorsMentionFormat(t *testing.T) {
	_, f, err := Decode(pngBomb(100000, 100000), DefaultLimits)
	if f != PNG || !strings.Contains(err.Error(), "100000x100000") {
		t.Errorf("got format %q, error %v", f, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeJPEG(f, syntheticCard(64, 48), 80))
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 8, 8))))
	f.Add(pngBomb(100000, 100000))
	f.Add(jpegBomb(65000, 65000))
	f.Add(webpBomb(100, 100))
	f.Add(withEXIF(encodeJPEG(f, image.NewGray(image.Rect(0, 0, 8, 6)), 80), exifTIFF(binary.BigEndian, 6)))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := Decode(data, Limits{MaxPixels: 1 << 20})
		if err == nil && img.Bounds().Dx()*img.Bounds().Dy() > 1<<20 {
			t.Fatalf("decoded %v beyond the pixel limit", img.Bounds())
		}
	})
}
