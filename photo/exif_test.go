package photo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"testing"
)

// exifTIFF builds the TIFF part of an EXIF segment with one IFD0 entry:
// Orientation = o, as a SHORT.
func exifTIFF(bo binary.ByteOrder, o uint16) []byte {
	var b bytes.Buffer
	if bo == binary.LittleEndian {
		b.WriteString("II")
	} else {
		b.WriteString("MM")
	}
	w := func(v any) { binary.Write(&b, bo, v) }
	w(uint16(42))
	w(uint32(8))      // IFD0 offset
	w(uint16(2))      // two entries
	w(uint16(0x010F)) // Make, ASCII, pointing nowhere useful
	w(uint16(2))
	w(uint32(4))
	b.WriteString("Go\x00\x00")
	w(uint16(0x0112)) // Orientation
	w(uint16(3))      // SHORT
	w(uint32(1))
	w(o)
	w(uint16(0))
	w(uint32(0)) // no next IFD
	return b.Bytes()
}

// withEXIF inserts an APP1 Exif segment holding tiff right after the SOI of
// a JPEG, after an APP0 JFIF and an unrelated APP1 (XMP) segment, as
// cameras write them.
func withEXIF(jpg, tiff []byte) []byte {
	seg := func(marker byte, payload []byte) []byte {
		n := len(payload) + 2
		return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
	}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg(0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))...)
	out = append(out, seg(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))...)
	out = append(out, seg(0xE1, append([]byte("Exif\x00\x00"), tiff...))...)
	return append(out, jpg[2:]...)
}

// markers paints a stored (sensor-order) 64×48 picture: mid grey, a red
// block at the top-left corner and a green block at the top-right.
func markers() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 0, 16, 16), image.NewUniform(color.RGBA{220, 30, 30, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(48, 0, 64, 16), image.NewUniform(color.RGBA{30, 200, 30, 255}), image.Point{}, draw.Src)
	return img
}

// corner names which corner of an upright picture a block ends up in.
type corner int

const (
	topLeft corner = iota
	topRight
	bottomLeft
	bottomRight
)

// TestEXIFOrientation checks every orientation against the EXIF
// specification's meaning, written out independently of the code: where
// the stored top-left (red) and top-right (green) corners must appear once
// the picture is upright.
func TestEXIFOrientation(t *testing.T) {
	cases := []struct {
		o          uint16
		w, h       int
		red, green corner
	}{
		{1, 64, 48, topLeft, topRight},
		{2, 64, 48, topRight, topLeft},       // mirrored
		{3, 64, 48, bottomRight, bottomLeft}, // turned 180°
		{4, 64, 48, bottomLeft, bottomRight}, // flipped vertically
		{5, 48, 64, topLeft, bottomLeft},     // transposed
		{6, 48, 64, topRight, bottomRight},   // needs 90° clockwise
		{7, 48, 64, bottomRight, topRight},   // transversed
		{8, 48, 64, bottomLeft, topLeft},     // needs 90° anticlockwise
	}
	stored := encodeJPEG(t, markers(), 95)
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, tc := range cases {
			img, _, err := Decode(withEXIF(stored, exifTIFF(bo, tc.o)), noMin)
			if err != nil {
				t.Fatalf("orientation %d: %v", tc.o, err)
			}
			if _, ok := img.(*image.YCbCr); !ok {
				t.Errorf("orientation %d: got %T, want *image.YCbCr kept", tc.o, img)
			}
			b := img.Bounds()
			if b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("orientation %d: size %dx%d, want %dx%d", tc.o, b.Dx(), b.Dy(), tc.w, tc.h)
				continue
			}
			at := func(c corner) color.Color {
				x, y := 4, 4
				if c == topRight || c == bottomRight {
					x = b.Dx() - 5
				}
				if c == bottomLeft || c == bottomRight {
					y = b.Dy() - 5
				}
				return img.At(x, y)
			}
			if c := rgb(at(tc.red)); c[0] < 150 || c[1] > 90 {
				t.Errorf("orientation %d (%v): red corner shows %v", tc.o, bo, c)
			}
			if c := rgb(at(tc.green)); c[1] < 150 || c[0] > 90 {
				t.Errorf("orientation %d (%v): green corner shows %v", tc.o, bo, c)
			}
		}
	}
}

// TestOrientPlanes checks the plane shuffling for every pixel type and
// odd sizes: luma (or every channel, without subsampling) must come from
// exactly the source pixel sourceXY names, whose meaning
// TestEXIFOrientation pins down.
func TestOrientPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	noise := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	const w, h = 13, 7
	r := image.Rect(0, 0, w, h)
	var imgs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		m := image.NewYCbCr(r, ratio)
		noise(m.Y)
		noise(m.Cb)
		noise(m.Cr)
		imgs = append(imgs, m)
	}
	g := image.NewGray(r)
	noise(g.Pix)
	c := image.NewCMYK(r)
	noise(c.Pix)
	n := image.NewNRGBA(r)
	noise(n.Pix)
	for i := 3; i < len(n.Pix); i += 4 {
		n.Pix[i] = 255
	}
	imgs = append(imgs, g, c, n)
	// A sub-image whose bounds do not start at the origin.
	big := image.NewYCbCr(image.Rect(0, 0, w+6, h+4), image.YCbCrSubsampleRatio420)
	noise(big.Y)
	noise(big.Cb)
	noise(big.Cr)
	imgs = append(imgs, big.SubImage(image.Rect(2, 2, w+2, h+2)))

	for _, src := range imgs {
		sb := src.Bounds()
		for o := 1; o <= 8; o++ {
			dst := orient(src, o)
			db := dst.Bounds()
			if db.Min != (image.Point{}) && o != 1 {
				t.Errorf("%T o=%d: bounds %v do not start at 0,0", src, o, db)
			}
			for y := 0; y < db.Dy(); y++ {
				for x := 0; x < db.Dx(); x++ {
					sx, sy := sourceXY(o, x, y, sb.Dx(), sb.Dy())
					got := dst.At(db.Min.X+x, db.Min.Y+y)
					want := src.At(sb.Min.X+sx, sb.Min.Y+sy)
					if ys, ok := src.(*image.YCbCr); ok && ys.SubsampleRatio != image.YCbCrSubsampleRatio444 {
						if yd, ok := dst.(*image.YCbCr); ok {
							got = color.Gray{yd.Y[yd.YOffset(db.Min.X+x, db.Min.Y+y)]}
							want = color.Gray{ys.Y[ys.YOffset(sb.Min.X+sx, sb.Min.Y+sy)]}
						} else { // fell back to RGBA: compare colours
							want = color.RGBAModel.Convert(want)
						}
					}
					if color.RGBAModel.Convert(got) != color.RGBAModel.Convert(want) {
						t.Fatalf("%T o=%d at %d,%d: got %v, want %v", src, o, x, y, got, want)
					}
				}
			}
		}
	}
}

func TestEXIFOrientationMalformed(t *testing.T) {
	jpg := encodeJPEG(t, markers(), 90)
	good := exifTIFF(binary.LittleEndian, 6)
	for name, tiff := range map[string][]byte{
		"empty":             nil,
		"bad byte order":    append([]byte("XX"), good[2:]...),
		"bad magic":         append([]byte("II\x2b\x00"), good[4:]...),
		"IFD beyond end":    append([]byte("II\x2a\x00\xff\xff\x00\x00"), good[8:]...),
		"too many entries":  append(append([]byte{}, good[:8]...), 0xff, 0xff),
		"orientation 9":     exifTIFF(binary.LittleEndian, 9),
		"orientation 0":     exifTIFF(binary.LittleEndian, 0),
		"truncated entries": good[:len(good)-10],
	} {
		img, _, err := Decode(withEXIF(jpg, tiff), noMin)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != 64 {
			t.Errorf("%s: picture was turned (%v)", name, b)
		}
	}
	// EXIF after the image data does not count.
	late := append(append([]byte{}, jpg[:len(jpg)-2]...), withEXIF([]byte{0xFF, 0xD8}, good)[2:]...)
	if o := exifOrientation(late); o != 1 {
		t.Errorf("EXIF after SOS: orientation %d", o)
	}
}

func FuzzEXIFOrientation(f *testing.F) {
	f.Add(withEXIF([]byte{0xFF, 0xD8, 0xFF, 0xD9}, exifTIFF(binary.LittleEndian, 6)))
	f.Add(withEXIF([]byte{0xFF, 0xD8, 0xFF, 0xD9}, exifTIFF(binary.BigEndian, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := exifOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
