package cardgen

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// The variants below imitate bad phone photos. Each returns a new image and
// leaves its input alone; noise comes from a fixed seed, so the output is
// reproducible.

// toRGBA returns a copy of img as *image.RGBA with bounds starting at 0,0.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(0x1d, 0xca4d)) }

// Dark imitates a photo taken in a dim room: contrast and brightness cut to
// about a third, a warm cast and sensor noise.
func Dark(img image.Image) *image.RGBA {
	dst := toRGBA(img)
	rng := newRand()
	for i := 0; i < len(dst.Pix); i += 4 {
		n := rng.NormFloat64() * 5
		dst.Pix[i+0] = clamp(float64(dst.Pix[i+0])*0.36 + 14 + n)
		dst.Pix[i+1] = clamp(float64(dst.Pix[i+1])*0.33 + 10 + n)
		dst.Pix[i+2] = clamp(float64(dst.Pix[i+2])*0.28 + 6 + n)
	}
	return dst
}

// Blurred imitates an out-of-focus photo: three box blurs of the given
// radius in pixels (close to a Gaussian with σ ≈ radius).
func Blurred(img image.Image, radius int) *image.RGBA {
	dst := toRGBA(img)
	for range 3 {
		boxBlur(dst, radius)
	}
	return dst
}

// boxBlur blurs img in place, horizontally then vertically.
func boxBlur(img *image.RGBA, r int) {
	if r <= 0 {
		return
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	tmp := make([]uint8, len(img.Pix))
	pass := func(src, dst []uint8, n, m int, idx func(i, j int) int) {
		for j := 0; j < m; j++ {
			for c := 0; c < 4; c++ {
				sum := 0
				for k := -r; k <= r; k++ {
					sum += int(src[idx(min(max(k, 0), n-1), j)+c])
				}
				for i := 0; i < n; i++ {
					dst[idx(i, j)+c] = uint8(sum / (2*r + 1))
					sum += int(src[idx(min(i+r+1, n-1), j)+c]) - int(src[idx(max(i-r, 0), j)+c])
				}
			}
		}
	}
	stride := img.Stride
	pass(img.Pix, tmp, w, h, func(i, j int) int { return j*stride + i*4 })
	pass(tmp, img.Pix, h, w, func(i, j int) int { return i*stride + j*4 })
}

// Tiny scales img down to the given width, keeping its aspect ratio, like a
// thumbnail or a card photographed from far away.
func Tiny(img image.Image, width int) *image.RGBA {
	b := img.Bounds()
	h := int(math.Round(float64(b.Dy()) * float64(width) / float64(b.Dx())))
	dst := image.NewRGBA(image.Rect(0, 0, width, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// Glare adds the bright reflection a lamp or window leaves on the laminated
// card: a soft white ellipse over the upper left (name, sex and birth lines)
// that fades out before the number line.
func Glare(img image.Image) *image.RGBA {
	dst := toRGBA(img)
	w, h := dst.Bounds().Dx(), dst.Bounds().Dy()
	cx, cy := 0.30*float64(w), 0.24*float64(h)
	sx, sy := 0.22*float64(w), 0.16*float64(h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := (float64(x)-cx)/sx, (float64(y)-cy)/sy
			// tilt the ellipse a little
			u, v := dx*0.95+dy*0.3, -dx*0.3+dy*0.95
			k := 0.9 * math.Exp(-(u*u + v*v))
			if k < 0.01 {
				continue
			}
			i := y*dst.Stride + x*4
			for c := 0; c < 3; c++ {
				p := float64(dst.Pix[i+c])
				dst.Pix[i+c] = clamp(p + (255-p)*k)
			}
		}
	}
	return dst
}

// PhotoWidth and PhotoHeight are the size of OnTable's picture (4:3, as a
// phone camera scaled down for a messenger).
const (
	PhotoWidth  = 1280
	PhotoHeight = 960
)

// OnTable places card (as from Render) on a darker table in a 1280×960
// photo, turned by degrees (positive is clockwise) and scaled to about 70 %
// of the photo's width, with a soft shadow, uneven light and noise.
func OnTable(card image.Image, degrees float64) *image.RGBA {
	src := toRGBA(card)
	sw, sh := src.Bounds().Dx(), src.Bounds().Dy()
	// Make the corners outside the rounded outline transparent.
	r := sw * radius / Width
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			if a := insideRounded(x, y, sw, sh, r); a < 1 {
				i := y*src.Stride + x*4
				for c := 0; c < 4; c++ {
					src.Pix[i+c] = clamp(float64(src.Pix[i+c]) * a)
				}
			}
		}
	}

	dst := image.NewRGBA(image.Rect(0, 0, PhotoWidth, PhotoHeight))
	rng := newRand()
	// Table: a dark brown gradient with wood-like grain.
	for y := 0; y < PhotoHeight; y++ {
		grainY := math.Sin(float64(y)*0.05) * 6
		for x := 0; x < PhotoWidth; x++ {
			fx, fy := float64(x)/PhotoWidth, float64(y)/PhotoHeight
			base := 70 + 35*fx + 15*fy
			g := 8 * math.Sin(float64(x)*0.013+grainY+3*math.Sin(float64(y)*0.004))
			n := rng.NormFloat64() * 3
			v := base + g + n
			dst.SetRGBA(x, y, color.RGBA{R: clamp(v * 1.15), G: clamp(v * 0.85), B: clamp(v * 0.6), A: 0xff})
		}
	}

	scale := 0.7 * PhotoWidth / float64(sw)
	th := degrees * math.Pi / 180
	cos, sin := math.Cos(th)*scale, math.Sin(th)*scale
	cxs, cys := float64(sw)/2, float64(sh)/2
	cxd, cyd := PhotoWidth/2+18.0, PhotoHeight/2-10.0
	aff := func(ox, oy float64) f64.Aff3 {
		// dst = R·S·(src − c_src) + c_dst + offset
		return f64.Aff3{
			cos, -sin, cxd + ox - (cos*cxs - sin*cys),
			sin, cos, cyd + oy - (sin*cxs + cos*cys),
		}
	}

	// Shadow: the card's alpha, offset, blurred and darkened.
	shadow := image.NewRGBA(dst.Bounds())
	draw.BiLinear.Transform(shadow, aff(14, 20), src, src.Bounds(), draw.Src, nil)
	boxBlur(shadow, 10)
	for i := 0; i < len(dst.Pix); i += 4 {
		a := float64(shadow.Pix[i+3]) / 255 * 0.55
		for c := 0; c < 3; c++ {
			dst.Pix[i+c] = clamp(float64(dst.Pix[i+c]) * (1 - a))
		}
	}

	draw.BiLinear.Transform(dst, aff(0, 0), src, src.Bounds(), draw.Over, nil)

	// Uneven light (brighter top left) and sensor noise over everything.
	for y := 0; y < PhotoHeight; y++ {
		for x := 0; x < PhotoWidth; x++ {
			fx, fy := float64(x)/PhotoWidth, float64(y)/PhotoHeight
			l := 1.02 - 0.14*(fx*0.6+fy*0.4)
			n := rng.NormFloat64() * 2.5
			i := y*dst.Stride + x*4
			for c := 0; c < 3; c++ {
				dst.Pix[i+c] = clamp(float64(dst.Pix[i+c])*l + n)
			}
		}
	}
	return dst
}
