package cardgen

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Backdrop is what a card lies on in a Shot.
type Backdrop string

// Backdrops of a Shot.
const (
	BackdropTable   Backdrop = "table"   // dark wood with grain
	BackdropCloth   Backdrop = "cloth"   // a checked and flowered tablecloth
	BackdropClutter Backdrop = "clutter" // a desk with papers, a pen, a phone, printed text
)

// Shot describes a phone photo of a card: how the card lies in the frame
// and what went wrong when the picture was taken. The zero values mean
// "nothing of that kind"; Shoot fills in a 1280×960 frame, a table and JPEG
// quality 85.
type Shot struct {
	// Width and Height are the photo's size before QuarterTurns.
	Width, Height int
	// CardShare is the card's width as a share of the photo's (0.7 when 0).
	CardShare float64
	// OffsetX and OffsetY move the card's centre from the frame's, as
	// shares of its width and height.
	OffsetX, OffsetY float64
	// Degrees turns the card in the frame (positive is clockwise).
	Degrees float64
	// Tilt is the keystone of a phone held at an angle: the card's far edge
	// (its top) is shorter than its near edge by this share, as when the
	// camera looks down at the card from its bottom side. Negative tilts
	// the other way; TiltSide tilts left–right instead.
	Tilt, TiltSide float64
	// QuarterTurns turns the whole photo clockwise by 90° this many times
	// (a card photographed sideways or upside down).
	QuarterTurns int
	Backdrop     Backdrop
	// Shadow darkens one side of the frame, through the card's middle, to
	// this share of its light (0.4 means 40 % is left), as the shadow of a
	// hand or of the phone does. The shadow lies in the direction
	// ShadowDegrees from the card's centre: 0 is the right half, 90 the
	// bottom half.
	Shadow        float64
	ShadowDegrees float64
	// MotionBlur smears the photo over this many pixels along
	// MotionDegrees, as a hand moving during the exposure does.
	MotionBlur    int
	MotionDegrees float64
	// Noise is the sensor noise's standard deviation in grey levels.
	Noise float64
	// Warm tints the light orange like a tungsten bulb (0–1).
	Warm float64
	// Quality is the JPEG quality (85 when 0).
	Quality int
	// Seed makes the noise and the clutter of two shots differ.
	Seed uint64
}

// Shoot renders card (as from Render) in a photo described by s and
// returns it encoded as JPEG, as a phone would send it. Everything is
// deterministic for a given card and shot.
func Shoot(card image.Image, s Shot) ([]byte, error) {
	img := ShootImage(card, s)
	q := s.Quality
	if q == 0 {
		q = JPEGQuality
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("cardgen: encode shot: %w", err)
	}
	return buf.Bytes(), nil
}

// ShootImage is Shoot without the JPEG encoding.
func ShootImage(card image.Image, s Shot) *image.RGBA {
	if s.Width <= 0 || s.Height <= 0 {
		s.Width, s.Height = PhotoWidth, PhotoHeight
	}
	if s.CardShare <= 0 {
		s.CardShare = 0.7
	}
	if s.Backdrop == "" {
		s.Backdrop = BackdropTable
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	src := toRGBA(card)
	sw, sh := float64(src.Bounds().Dx()), float64(src.Bounds().Dy())

	dst := image.NewRGBA(image.Rect(0, 0, s.Width, s.Height))
	drawBackdrop(dst, s.Backdrop, rng)

	// Where the card's corners land: a rectangle of the card's aspect,
	// narrowed at one edge for the keystone, turned and moved.
	w := s.CardShare * float64(s.Width)
	h := w * sh / sw
	cx := float64(s.Width)*(0.5+s.OffsetX) + 0.01*float64(s.Width)
	cy := float64(s.Height)*(0.5+s.OffsetY) - 0.01*float64(s.Height)
	top, bottom := 1-max(s.Tilt, 0), 1+min(s.Tilt, 0)
	left, right := 1-max(s.TiltSide, 0), 1+min(s.TiltSide, 0)
	corners := [4][2]float64{
		{-w / 2 * top, -h / 2 * left}, {w / 2 * top, -h / 2 * right},
		{w / 2 * bottom, h / 2 * right}, {-w / 2 * bottom, h / 2 * left},
	}
	th := s.Degrees * math.Pi / 180
	c, sn := math.Cos(th), math.Sin(th)
	var quad [4][2]float64
	for i, p := range corners {
		quad[i] = [2]float64{cx + c*p[0] - sn*p[1], cy + sn*p[0] + c*p[1]}
	}
	rect := [4][2]float64{{0, 0}, {sw, 0}, {sw, sh}, {0, sh}}
	inv := homography(quad, rect) // photo → card

	// A soft contact shadow, then the card.
	shadowAt := func(x, y float64) float64 { // 0..1 coverage of the card
		u, v := inv.apply(x, y)
		d := math.Min(math.Min(u, sw-u), math.Min(v, sh-v))
		return math.Max(0, math.Min(1, d/6+0.5))
	}
	b := bounds(quad).Inset(-30).Intersect(dst.Bounds())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			a := shadowAt(float64(x)-10, float64(y)-14) * 0.5
			i := dst.PixOffset(x, y)
			for k := range 3 {
				dst.Pix[i+k] = clamp(float64(dst.Pix[i+k]) * (1 - a))
			}
		}
	}
	r := radius * sw / Width
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			u, v := inv.apply(float64(x)+0.5, float64(y)+0.5)
			if u < -1 || v < -1 || u > sw+1 || v > sh+1 {
				continue
			}
			a := insideRounded(int(u), int(v), int(sw), int(sh), int(r))
			if a <= 0 {
				continue
			}
			p := bilinear(src, u-0.5, v-0.5)
			i := dst.PixOffset(x, y)
			for k := range 3 {
				dst.Pix[i+k] = clamp(float64(p[k])*a + float64(dst.Pix[i+k])*(1-a))
			}
		}
	}

	// Light: a gentle fall-off everywhere, a hard-ish shadow over one side,
	// a warm cast.
	sth := s.ShadowDegrees * math.Pi / 180
	nx, ny := math.Cos(sth), math.Sin(sth)
	for y := 0; y < s.Height; y++ {
		for x := 0; x < s.Width; x++ {
			fx, fy := float64(x)/float64(s.Width), float64(y)/float64(s.Height)
			l := 1.03 - 0.12*(fx*0.5+fy*0.5)
			if s.Shadow > 0 {
				// Signed distance from the shadow's edge through the card's
				// centre; a penumbra of 2 % of the frame.
				d := (float64(x)-cx)*nx + (float64(y)-cy)*ny
				k := 1 / (1 + math.Exp(-d/(0.01*float64(s.Width))))
				l *= 1 - (1-s.Shadow)*k
			}
			i := dst.PixOffset(x, y)
			rr, gg, bb := float64(dst.Pix[i])*l, float64(dst.Pix[i+1])*l, float64(dst.Pix[i+2])*l
			if s.Warm > 0 {
				rr, gg, bb = rr*(1+0.12*s.Warm)+8*s.Warm, gg*(1-0.04*s.Warm), bb*(1-0.38*s.Warm)
			}
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = clamp(rr), clamp(gg), clamp(bb)
		}
	}
	boxBlur(dst, 1) // no lens is pixel-sharp
	if s.MotionBlur > 1 {
		dst = motionBlur(dst, s.MotionBlur, s.MotionDegrees)
	}
	if s.Noise > 0 {
		for i := 0; i < len(dst.Pix); i += 4 {
			n := rng.NormFloat64() * s.Noise
			for k := range 3 {
				dst.Pix[i+k] = clamp(float64(dst.Pix[i+k]) + n + rng.NormFloat64()*s.Noise*0.3)
			}
		}
	}
	for range ((s.QuarterTurns % 4) + 4) % 4 {
		dst = turnRGBA(dst)
	}
	return dst
}

// mat3 is a 3×3 projective transform, row-major.
type mat3 [9]float64

func (m mat3) apply(x, y float64) (float64, float64) {
	w := m[6]*x + m[7]*y + m[8]
	return (m[0]*x + m[1]*y + m[2]) / w, (m[3]*x + m[4]*y + m[5]) / w
}

// homography returns the projective transform that maps from[i] to to[i]
// (solving the usual 8×8 system by Gaussian elimination).
func homography(from, to [4][2]float64) mat3 {
	var a [8][9]float64
	for i := range 4 {
		x, y, u, v := from[i][0], from[i][1], to[i][0], to[i][1]
		a[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for col := range 8 {
		p := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		a[col], a[p] = a[p], a[col]
		for r := range 8 {
			if r == col || a[col][col] == 0 {
				continue
			}
			f := a[r][col] / a[col][col]
			for k := col; k < 9; k++ {
				a[r][k] -= f * a[col][k]
			}
		}
	}
	var m mat3
	for i := range 8 {
		m[i] = a[i][8] / a[i][i]
	}
	m[8] = 1
	return m
}

func bounds(q [4][2]float64) image.Rectangle {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range q {
		x0, y0 = math.Min(x0, p[0]), math.Min(y0, p[1])
		x1, y1 = math.Max(x1, p[0]), math.Max(y1, p[1])
	}
	return image.Rect(int(x0), int(y0), int(x1)+1, int(y1)+1)
}

// bilinear samples img at (x, y), clamping at the edges.
func bilinear(img *image.RGBA, x, y float64) [3]float64 {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	x = math.Max(0, math.Min(x, float64(w-1)))
	y = math.Max(0, math.Min(y, float64(h-1)))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	var out [3]float64
	for k := range 3 {
		p00 := float64(img.Pix[y0*img.Stride+x0*4+k])
		p10 := float64(img.Pix[y0*img.Stride+x1*4+k])
		p01 := float64(img.Pix[y1*img.Stride+x0*4+k])
		p11 := float64(img.Pix[y1*img.Stride+x1*4+k])
		out[k] = (p00*(1-fx)+p10*fx)*(1-fy) + (p01*(1-fx)+p11*fx)*fy
	}
	return out
}

// motionBlur averages n samples along a line at deg degrees.
func motionBlur(img *image.RGBA, n int, deg float64) *image.RGBA {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dst := image.NewRGBA(img.Bounds())
	dx, dy := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	offs := make([][2]int, n)
	for i := range offs {
		t := float64(i) - float64(n-1)/2
		offs[i] = [2]int{int(math.Round(t * dx)), int(math.Round(t * dy))}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var sum [3]int
			for _, o := range offs {
				sx, sy := min(max(x+o[0], 0), w-1), min(max(y+o[1], 0), h-1)
				i := sy*img.Stride + sx*4
				sum[0] += int(img.Pix[i])
				sum[1] += int(img.Pix[i+1])
				sum[2] += int(img.Pix[i+2])
			}
			i := y*dst.Stride + x*4
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = uint8(sum[0]/n), uint8(sum[1]/n), uint8(sum[2]/n), 255
		}
	}
	return dst
}

// turnRGBA turns img 90° clockwise.
func turnRGBA(img *image.RGBA) *image.RGBA {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(dst.Pix[x*dst.Stride+(h-1-y)*4:][:4], img.Pix[y*img.Stride+x*4:][:4])
		}
	}
	return dst
}

// drawBackdrop paints what the card lies on.
func drawBackdrop(dst *image.RGBA, kind Backdrop, rng *rand.Rand) {
	w, h := dst.Bounds().Dx(), dst.Bounds().Dy()
	set := func(x, y int, r, g, b float64) {
		i := dst.PixOffset(x, y)
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = clamp(r), clamp(g), clamp(b), 255
	}
	switch kind {
	case BackdropCloth:
		// Red and cream gingham with small blue flowers: strong, regular
		// edges of the kind that confuse a search for text lines.
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				a := (x/36)%2 == 0
				b := (y/36)%2 == 0
				v := 0.0
				if a {
					v += 0.5
				}
				if b {
					v += 0.5
				}
				r, g, bl := 238-70*v, 228-150*v, 212-150*v
				fx, fy := float64(x%72)-36, float64(y%72)-36
				if rr := math.Hypot(fx, fy); rr < 9 && math.Sin(5*math.Atan2(fy, fx)) > -0.2 {
					r, g, bl = 60, 90, 170
				}
				set(x, y, r, g, bl)
			}
		}
	case BackdropClutter:
		// A grey desk with things on it: sheets of printed paper, a pen, a
		// phone, a mug's rim, and a receipt with lines of digits.
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := 120 + 20*math.Sin(float64(x)*0.004+float64(y)*0.003)
				set(x, y, v, v*0.98, v*0.95)
			}
		}
		for range 7 {
			x0, y0 := rng.IntN(w), rng.IntN(h)
			rw, rh := 80+rng.IntN(w/3), 60+rng.IntN(h/3)
			col := [3]float64{float64(140 + rng.IntN(110)), float64(140 + rng.IntN(110)), float64(140 + rng.IntN(110))}
			dark := rng.IntN(3) == 0
			for y := y0; y < min(y0+rh, h); y++ {
				for x := x0; x < min(x0+rw, w); x++ {
					r, g, b := col[0], col[1], col[2]
					if dark {
						r, g, b = r*0.25, g*0.25, b*0.25
					}
					// Lines of "print" on the light sheets.
					if !dark && (y-y0)%22 > 15 && (x-x0)%9 < 6 && (x-x0) > 10 && (x-x0) < rw-10 {
						r, g, b = 50, 50, 60
					}
					set(x, y, r, g, b)
				}
			}
		}
		// A pen: a long thin dark bar at an angle.
		px, py := float64(rng.IntN(w)), float64(rng.IntN(h))
		a := rng.Float64() * math.Pi
		for t := -180.0; t < 180; t += 0.5 {
			for o := -5.0; o <= 5; o++ {
				x := int(px + t*math.Cos(a) - o*math.Sin(a))
				y := int(py + t*math.Sin(a) + o*math.Cos(a))
				if image.Pt(x, y).In(dst.Bounds()) {
					set(x, y, 20, 30, 110)
				}
			}
		}
	default:
		for y := 0; y < h; y++ {
			grainY := math.Sin(float64(y)*0.05) * 6
			for x := 0; x < w; x++ {
				fx, fy := float64(x)/float64(w), float64(y)/float64(h)
				v := 70 + 35*fx + 15*fy + 8*math.Sin(float64(x)*0.013+grainY+3*math.Sin(float64(y)*0.004))
				set(x, y, v*1.15, v*0.85, v*0.6)
			}
		}
	}
}
