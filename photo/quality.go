package photo

import (
	"image"
	"slices"
)

// MeasureSide is the longer side of the greyscale copy Measure analyses.
// 512 px keeps a 1280×960 photo's analysis to a few milliseconds and
// still resolves the strokes of the ID number on a card that fills a third
// of the frame. Because every picture is brought to the same scale, the
// Sharpness threshold does not depend on the camera's resolution.
const MeasureSide = 512

// Thresholds of Quality.Problem. They were calibrated on synthetic photos
// of a card on a table (clean, dimmed, darkened, blown out, with glare,
// blurred; see quality_test.go, run it with -v for the numbers) and on the
// real portrait in pigo's testdata, and sit between what must pass and what
// must fail with a margin on both sides. They are exported so the bot can
// log how far a picture missed.
const (
	// MinBrightness is the mean luma below which a picture is TooDark.
	// The card photo measures 153; dimmed to 40 % (61) it still reads
	// well, at 30 % (46) and 20 % (31) it does not.
	MinBrightness = 50.0
	// MaxClipped is the share of blown-out pixels (luma ≥ 250) above
	// which a picture is Overexposed. Phones' HDR processing keeps large
	// areas from clipping in normal light, so more than 15 % of the frame
	// at pure white means glare on the laminate, a lamp or window in the
	// picture or gross overexposure: a glare spot over half the card
	// measures 0.20, the blown-out card 0.40, clean photos 0.00–0.03.
	MaxClipped = 0.15
	// MaxBrightness is the mean luma above which a picture is Overexposed
	// even with little clipping: washed out to near white. A well exposed
	// card filling the whole frame averages about 220.
	MaxBrightness = 235.0
	// MinSharpness is the Sharpness below which a picture is Blurred. The
	// card photo scores 304, blurred by a 3×3 box 236, 5×5 150, 9×9
	// (radius 4) 66, whatever the noise and JPEG quality. pigo's
	// smooth-skinned portrait scores 205 as it is and 93 enlarged 3× to
	// 960×1200; blurred by a 3×3 box, 50.
	MinSharpness = 80.0
	// MinEvenness is the Evenness below which a picture is UnevenLight.
	// Cards with a shadow over half of them (leaving 35–50 % of the light)
	// measure 0.33–0.48; evenly lit cards 0.95–1.0 on wood, a checked cloth
	// or with motion blur, noise or JPEG quality 15; a small card on a
	// cluttered desk 0.55–0.59; a milder shadow leaving 60 % of the light,
	// which still reads, 0.59 (see TestUnevenLightShots). In the shadows
	// below the threshold the paper is about as dark as the ink in the
	// light, and nothing is read from that half.
	//
	// It is not a default limit: faces are shaded by nature and a portrait
	// has no text, so only card photos are checked (CardLimits).
	MinEvenness = 0.52
)

// Problem is the first thing wrong with a picture, "" (OK) if nothing is.
// The values are stable strings so they can key localised hints.
type Problem string

// Problems, in the order Problem checks them. The order puts the fix that
// helps most first: a tiny picture must be retaken whatever else is wrong,
// and a dark photo is often blurred too (long exposure, focus hunting), so
// more light comes before holding still.
const (
	OK          Problem = ""
	TooSmall    Problem = "too_small"
	TooDark     Problem = "too_dark"
	Overexposed Problem = "overexposed" // large blown-out areas or glare
	Blurred     Problem = "blurred"
	// UnevenLight is a shadow over part of the picture (a hand, the
	// phone): the text in it is too dark to read next to the text in the
	// light.
	UnevenLight Problem = "uneven_light"
)

// Quality holds the measurements of one picture.
type Quality struct {
	// Width and Height are the picture's size in pixels.
	Width, Height int
	// Brightness is the mean luma, 0–255.
	Brightness float64
	// Clipped is the share (0–1) of pixels of the greyscale copy with luma
	// 250 or more: blown out by overexposure or by a reflection on the
	// laminated card.
	Clipped float64
	// Sharpness is the variance of the Laplacian of the greyscale copy
	// (longer side MeasureSide) after its contrast is normalised to a mean
	// squared gradient of 100 and estimated sensor noise is discounted.
	// Edges in focus give large second derivatives; blur spreads them out
	// and the variance collapses. The normalisation makes the score depend
	// on how sharp the edges are, not on how many there are, how dark the
	// photo is or how grainy, so a card full of text and a plain portrait
	// are judged on one scale. In-focus photos score about 100–600, a flat
	// picture 0.
	Sharpness float64
	// Evenness compares the light on the paper behind text across the
	// picture: the brightness of the paper in the darker fifth of the
	// picture's text-like cells over that in the brightest tenth. 1 is
	// even light; a shadow over half a card gives about 0.4. Pictures
	// with too few text-like cells to judge measure 1.
	Evenness float64
}

// Measure computes the Quality of img.
func Measure(img image.Image) Quality {
	b := img.Bounds()
	q := Quality{Width: b.Dx(), Height: b.Dy()}
	g := Grey(img, MeasureSide)
	if len(g.Pix) == 0 {
		return q
	}
	var sum, clipped int
	for _, p := range g.Pix {
		sum += int(p)
		if p >= 250 {
			clipped++
		}
	}
	n := float64(len(g.Pix))
	q.Brightness = float64(sum) / n
	q.Clipped = float64(clipped) / n
	q.Sharpness = sharpness(g)
	q.Evenness = evenness(g)
	return q
}

// evenness measures how evenly the paper behind text is lit (see
// Quality.Evenness). It cuts g into cells of evenCell pixels and keeps the
// text-like ones: a cell's darkest pixels (ink) at least 40 levels below
// its brightest (paper) and darker than 40 % of it. A shadow dims ink and
// paper alike, so text in a shadow stays text-like, while smooth surfaces
// (a table's grain, a plain cloth, the shadow itself) and the softer
// edges of things on a desk (a grey pen on a grey desk) do not count. The
// paper's brightness of a cell is its 95th percentile, the ink's its 5th,
// robust to a few noisy pixels.
func evenness(g *image.Gray) float64 {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	var papers []float64
	var hist [256]int
	n := evenCell * evenCell
	for cy := 0; cy+evenCell <= h; cy += evenCell {
		for cx := 0; cx+evenCell <= w; cx += evenCell {
			clear(hist[:])
			for y := cy; y < cy+evenCell; y++ {
				for _, p := range g.Pix[y*g.Stride+cx : y*g.Stride+cx+evenCell] {
					hist[p]++
				}
			}
			ink, paper := Percentile(&hist, n, 0.05), Percentile(&hist, n, 0.95)
			if paper-ink >= 40 && float64(ink) < 0.4*float64(paper) {
				papers = append(papers, float64(paper))
			}
		}
	}
	if len(papers) < 12 {
		return 1
	}
	slices.Sort(papers)
	dark, light := papers[len(papers)/5], papers[len(papers)*9/10]
	if light <= 0 {
		return 1
	}
	return dark / light
}

// evenCell is the side of evenness's cells on the MeasureSide copy: about
// a line of a card's text when the card fills half the frame.
const evenCell = 16

// Percentile returns the grey level below which a share q of the n pixels
// counted in hist lie.
func Percentile(hist *[256]int, n int, q float64) int {
	want := int(float64(n) * q)
	acc := 0
	for v, c := range hist {
		acc += c
		if acc > want {
			return v
		}
	}
	return 255
}

// Problem returns the first problem in the order TooSmall, TooDark,
// Overexposed, UnevenLight, Blurred, or OK. Of lim, only MinWidth,
// MinHeight and MinEvenness are used.
func (q Quality) Problem(lim Limits) Problem {
	switch {
	case lim.tooSmall(q.Width, q.Height):
		return TooSmall
	case q.Brightness < MinBrightness:
		return TooDark
	case q.Clipped > MaxClipped || q.Brightness > MaxBrightness:
		return Overexposed
	case q.Evenness < lim.MinEvenness:
		return UnevenLight
	case q.Sharpness < MinSharpness:
		return Blurred
	}
	return OK
}

// sharpness returns the variance of the 4-neighbour Laplacian over the
// interior of g (Stride == width), after scaling g's contrast so that its
// mean squared gradient (central differences) is gradNorm, and with the
// share of both that is sensor noise taken out.
//
// Both operators are linear, so the contrast scaling is a division at the
// end: gradNorm · Var(L) / mean(|∇|²). For an edge blurred over σ pixels
// the gradient falls like 1/σ and the Laplacian like 1/σ², so the ratio
// measures σ alone. The raw Laplacian variance would instead also grow with
// contrast and with how much of the picture is edges, which made a
// text-dense card blurred by 9 pixels score like a sharp, smooth-skinned
// portrait.
//
// Noise is the other trap: every Laplacian measure reads grain as detail,
// and a dim, blurred photo would pass. White noise of deviation σn adds
// 20σn² to Var(L) and σn² to mean(|∇|²), so both are subtracted, with σn
// estimated robustly as in Immerkær's method (the kernel below cancels
// smooth shading and responds to noise with deviation 6σn), taking the
// median response so that the minority of edge pixels does not count.
//
// Integer sums keep it exact: |L| ≤ 1020 and the noise kernel's response
// is at most 16·255, so the sums over 512×512 pixels fit easily in int64.
func sharpness(g *image.Gray) float64 {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	if w < 3 || h < 3 {
		return 0
	}
	var sum, sumSq, grad int64
	var hist [4081]int32
	for y := 1; y < h-1; y++ {
		up := g.Pix[(y-1)*w : y*w]
		row := g.Pix[y*w : (y+1)*w]
		dn := g.Pix[(y+1)*w : (y+2)*w]
		var s, ss, gg int64
		for x := 1; x < w-1; x++ {
			l, r, u, d := int64(row[x-1]), int64(row[x+1]), int64(up[x]), int64(dn[x])
			c := int64(row[x])
			lap := 4*c - l - r - u - d
			s += lap
			ss += lap * lap
			gg += (r-l)*(r-l) + (d-u)*(d-u)
			// [1 -2 1; -2 4 -2; 1 -2 1]: zero on flat areas and ramps.
			m := 4*c - 2*(l+r+u+d) + int64(up[x-1]) + int64(up[x+1]) + int64(dn[x-1]) + int64(dn[x+1])
			if m < 0 {
				m = -m
			}
			hist[m]++
		}
		sum += s
		sumSq += ss
		grad += gg
	}
	n := (w - 2) * (h - 2)
	half, acc, med := int32(n/2), int32(0), 0
	for v, c := range hist {
		acc += c
		if acc > half {
			med = v
			break
		}
	}
	// For Gaussian noise the median absolute value is 0.6745 deviations.
	sigma := float64(med) / (0.6745 * 6)
	nn := float64(n)
	mean := float64(sum) / nn
	lapVar := float64(sumSq)/nn - mean*mean - 20*sigma*sigma
	gradEnergy := float64(grad)/4/nn - sigma*sigma
	if gradEnergy <= 0 || lapVar <= 0 {
		return 0 // flat, or nothing but noise
	}
	return gradNorm * lapVar / gradEnergy
}

// gradNorm is the mean squared gradient sharpness normalises to. 100
// (an RMS slope of 10 grey levels per pixel) puts in-focus pictures in the
// low hundreds, a convenient scale.
const gradNorm = 100
