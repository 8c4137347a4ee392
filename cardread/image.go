package cardread

import (
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"pensionbot/photo"
)

// ErrNotImage is returned (wrapped) when the bytes are not a picture in a
// supported format (JPEG, PNG, GIF, WebP).
var ErrNotImage = errors.New("not a supported image")

// ErrImageTooLarge is returned (wrapped) for pictures with more pixels than
// the reader accepts: decoding them would take too much memory.
var ErrImageTooLarge = errors.New("image too large")

// DefaultMaxPixels is the largest picture accepted by default: 50 MP, more
// than any phone camera, and far less memory than a decompression bomb.
const DefaultMaxPixels = 50_000_000

// decodeImage decodes a picture through the program's one image decoder
// (photo.Decode: the header is checked before any pixel is decoded, so a
// picture claiming huge dimensions costs nothing, and a photo sent as a
// file is turned upright by its EXIF orientation).
func decodeImage(data []byte, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	img, _, err := photo.Decode(data, photo.Limits{MaxPixels: maxPixels})
	switch {
	case errors.Is(err, photo.ErrTooManyPixels), errors.Is(err, photo.ErrTooLarge):
		return nil, fmt.Errorf("%w: %w", ErrImageTooLarge, err)
	case err != nil:
		return nil, fmt.Errorf("%w (%d bytes): %w", ErrNotImage, len(data), err)
	}
	return img, nil
}

// toGray converts img to 8-bit grey with bounds at the origin.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	if src, ok := img.(*image.YCbCr); ok {
		// Fast path for JPEG and WebP: the luma plane is the grey image.
		// Lossy WebP's luma is limited-range (16–235); autoContrast
		// stretches it like any dim picture.
		for y := 0; y < b.Dy(); y++ {
			row := src.Y[src.YOffset(b.Min.X, b.Min.Y+y):]
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], row[:b.Dx()])
		}
		return g
	}
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}

// scaleGray resizes g by factor f with Catmull-Rom (sharp enough for text).
func scaleGray(g *image.Gray, f float64) *image.Gray {
	if f == 1 {
		return g
	}
	w := max(1, int(math.Round(float64(g.Bounds().Dx())*f)))
	h := max(1, int(math.Round(float64(g.Bounds().Dy())*f)))
	dst := image.NewGray(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), g, g.Bounds(), draw.Src, nil)
	return dst
}

// autoContrast stretches g so that its darkest 1 % becomes black and its
// lightest 1 % white. Dim photos then look like well-lit ones to the OCR.
func autoContrast(g *image.Gray) *image.Gray {
	var hist [256]int
	for _, p := range g.Pix {
		hist[p]++
	}
	n := len(g.Pix)
	lo, hi := photo.Percentile(&hist, n, 0.01), photo.Percentile(&hist, n, 0.99)
	if hi-lo < 8 {
		return g // flat picture: nothing to stretch
	}
	var lut [256]uint8
	for i := range lut {
		v := float64(i-lo) * 255 / float64(hi-lo)
		lut[i] = uint8(math.Max(0, math.Min(255, v)))
	}
	dst := image.NewGray(g.Rect)
	for i, p := range g.Pix {
		dst.Pix[i] = lut[p]
	}
	return dst
}

// otsu returns the threshold that best separates g's pixels into two
// classes (Otsu's method).
func otsu(g *image.Gray) uint8 {
	var hist [256]float64
	for _, p := range g.Pix {
		hist[p]++
	}
	total := float64(len(g.Pix))
	var sum float64
	for i, c := range hist {
		sum += float64(i) * c
	}
	var sumB, wB, best float64
	thr := 128
	for i, c := range hist {
		wB += c
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(i) * c
		mB, mF := sumB/wB, (sum-sumB)/wF
		if v := wB * wF * (mB - mF) * (mB - mF); v > best {
			best, thr = v, i
		}
	}
	return uint8(thr)
}

// binarize returns g with pixels at or below t black and the rest white.
func binarize(g *image.Gray, t uint8) *image.Gray {
	dst := image.NewGray(g.Rect)
	for i, p := range g.Pix {
		if p > t {
			dst.Pix[i] = 255
		}
	}
	return dst
}

// crop copies r (clipped to g) into a new image at the origin.
func crop(g *image.Gray, r image.Rectangle) *image.Gray {
	r = r.Intersect(g.Bounds())
	dst := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), g, r.Min, draw.Src)
	return dst
}

// rotate turns g by deg degrees (positive is clockwise on screen) about
// (cx, cy), keeping its size and filling uncovered pixels with fill.
func rotate(g *image.Gray, deg float64, cx, cy float64, fill uint8) *image.Gray {
	if deg == 0 {
		return g
	}
	dst := image.NewGray(g.Bounds())
	for i := range dst.Pix {
		dst.Pix[i] = fill
	}
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	m := f64.Aff3{c, -s, cx - c*cx + s*cy, s, c, cy - s*cx - c*cy}
	draw.BiLinear.Transform(dst, m, g, g.Bounds(), draw.Src, nil)
	return dst
}

// rotate90 turns g by a multiple of 90° clockwise.
func rotate90(g *image.Gray, deg int) *image.Gray {
	deg = ((deg % 360) + 360) % 360
	if deg == 0 {
		return g
	}
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	var dst *image.Gray
	if deg == 180 {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewGray(image.Rect(0, 0, h, w))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := g.Pix[y*g.Stride+x]
			switch deg {
			case 90:
				dst.Pix[x*dst.Stride+(h-1-y)] = v
			case 180:
				dst.Pix[(h-1-y)*dst.Stride+(w-1-x)] = v
			case 270:
				dst.Pix[(w-1-x)*dst.Stride+y] = v
			}
		}
	}
	return dst
}

// skew estimates the angle (degrees, within ±maxDeg) by which the text
// lines in the binary image b are turned, by finding the shear whose row
// profile of ink is the most peaked (projection-profile deskew).
func skew(b *image.Gray, maxDeg float64) float64 {
	type pt struct{ x, y float64 }
	var ink []pt
	w, h := b.Bounds().Dx(), b.Bounds().Dy()
	cx := float64(w) / 2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if b.Pix[y*b.Stride+x] == 0 {
				ink = append(ink, pt{float64(x) - cx, float64(y)})
			}
		}
	}
	if len(ink) < 50 {
		return 0
	}
	pad := int(float64(w)*math.Tan(maxDeg*math.Pi/180)) + 2
	bins := make([]float64, h+2*pad)
	bestScore, bestDeg := -1.0, 0.0
	for deg := -maxDeg; deg <= maxDeg+1e-9; deg += 0.25 {
		t := math.Tan(deg * math.Pi / 180)
		clear(bins)
		for _, p := range ink {
			i := int(p.y-p.x*t) + pad
			if i >= 0 && i < len(bins) {
				bins[i]++
			}
		}
		score := 0.0
		for _, v := range bins {
			score += v * v
		}
		// Prefer the smaller angle on (near) ties.
		if score > bestScore*1.0001 || (score > bestScore*0.9999 && math.Abs(deg) < math.Abs(bestDeg)) {
			bestScore, bestDeg = score, deg
		}
	}
	return bestDeg
}

// pad surrounds g with a border of n white pixels; tesseract reads text
// that touches the image edge badly.
func pad(g *image.Gray, n int) *image.Gray {
	dst := image.NewGray(image.Rect(0, 0, g.Bounds().Dx()+2*n, g.Bounds().Dy()+2*n))
	for i := range dst.Pix {
		dst.Pix[i] = 255
	}
	draw.Draw(dst, g.Bounds().Add(image.Pt(n, n)), g, g.Bounds().Min, draw.Src)
	return dst
}

// pgm encodes g as a binary PGM (P5), which tesseract's image library
// reads from stdin and which costs nothing to write.
func pgm(g *image.Gray) []byte {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	hdr := "P5\n" + strconv.Itoa(w) + " " + strconv.Itoa(h) + "\n255\n"
	out := make([]byte, 0, len(hdr)+w*h)
	out = append(out, hdr...)
	for y := 0; y < h; y++ {
		out = append(out, g.Pix[y*g.Stride:y*g.Stride+w]...)
	}
	return out
}

// median returns the median grey value of g (used as the fill colour when
// rotating a crop).
func median(g *image.Gray) uint8 {
	var hist [256]int
	for _, p := range g.Pix {
		hist[p]++
	}
	return uint8(photo.Percentile(&hist, len(g.Pix), 0.5))
}

// flatten evens out the light over g: it divides every pixel by the
// brightness of the paper around it, so that text in a shadow over half
// the card, or under a lamp's fall-off, has the same contrast as text in
// full light. A global threshold or contrast stretch cannot do this: the
// shadowed paper is as dark as the ink in the light.
//
// The paper's brightness is the local maximum over a window larger than
// the gaps inside a character (a Chinese character always has some paper
// within a few strokes), computed on blocks of block pixels to keep it
// cheap, then smoothed so that the shadow's soft edge is followed without
// block seams.
func flatten(g *image.Gray) *image.Gray {
	return flattenBlocks(g, float64(max(4, max(g.Bounds().Dx(), g.Bounds().Dy())/160)))
}

// flattenBlocks is flatten with blocks of the given size: the window over
// which the paper's brightness is taken is five blocks wide, and must be
// wider than the gaps inside a character.
func flattenBlocks(g *image.Gray, blockSize float64) *image.Gray {
	block := max(2, int(blockSize))
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	bw, bh := (w+block-1)/block, (h+block-1)/block
	if bw < 3 || bh < 3 {
		return g
	}
	small := image.NewGray(image.Rect(0, 0, bw, bh))
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		out := small.Pix[(y/block)*small.Stride:]
		for x, p := range row {
			if p > out[x/block] {
				out[x/block] = p
			}
		}
	}
	// A window of five blocks (about 50 px on a normalised page, more than
	// a character's inner gaps and less than the shadow's reach).
	bg := boxSmooth(maxFilter(small, 2), 2)
	up := scaleTo(bg, w, h)
	dst := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := float64(g.Pix[y*g.Stride+x])
			b := math.Max(float64(up.Pix[y*up.Stride+x]), 16)
			dst.Pix[y*dst.Stride+x] = uint8(math.Min(255, p*245/b))
		}
	}
	return dst
}

// maxFilter returns the maximum of g over a (2r+1)² window at each pixel.
func maxFilter(g *image.Gray, r int) *image.Gray {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	tmp := image.NewGray(g.Rect)
	dst := image.NewGray(g.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m := uint8(0)
			for k := max(0, x-r); k <= min(w-1, x+r); k++ {
				m = max(m, g.Pix[y*g.Stride+k])
			}
			tmp.Pix[y*tmp.Stride+x] = m
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m := uint8(0)
			for k := max(0, y-r); k <= min(h-1, y+r); k++ {
				m = max(m, tmp.Pix[k*tmp.Stride+x])
			}
			dst.Pix[y*dst.Stride+x] = m
		}
	}
	return dst
}

// boxSmooth averages g over a (2r+1)² window (clamped at the edges).
func boxSmooth(g *image.Gray, r int) *image.Gray {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	dst := image.NewGray(g.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s, n := 0, 0
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					xx, yy := min(max(x+dx, 0), w-1), min(max(y+dy, 0), h-1)
					s += int(g.Pix[yy*g.Stride+xx])
					n++
				}
			}
			dst.Pix[y*dst.Stride+x] = uint8(s / n)
		}
	}
	return dst
}

// scaleTo resizes g to w×h bilinearly.
func scaleTo(g *image.Gray, w, h int) *image.Gray {
	dst := image.NewGray(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), g, g.Bounds(), draw.Src, nil)
	return dst
}

// sharpen applies an unsharp mask (g + amount·(g − blur(g))). A name
// photographed small or slightly out of focus comes out of lineCrop's
// enlargement soft, and tesseract then reads nothing in it; sharpened, it
// often does.
func sharpen(g *image.Gray, amount float64) *image.Gray {
	blur := boxSmooth(g, 2)
	dst := image.NewGray(g.Rect)
	for i, p := range g.Pix {
		v := float64(p) + amount*(float64(p)-float64(blur.Pix[i]))
		dst.Pix[i] = uint8(math.Max(0, math.Min(255, v)))
	}
	return dst
}
