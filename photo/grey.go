package photo

import (
	"image"
	"math"
)

// Grey returns a greyscale copy of img, box-filtered down so that its longer
// side is at most maxSide pixels; smaller pictures are copied at their size,
// never enlarged. The copy's bounds start at (0, 0) and its Stride equals its
// width. Luma uses the Rec. 601 weights, as JPEG does.
//
// The box filter averages every source pixel into the output with its exact
// area share (also for non-integer ratios), so brightness is preserved and
// no detail aliases into false sharpness. Each source pixel is read once:
// for *image.YCbCr (JPEG, lossy WebP) straight from the Y plane, without
// converting colour, so a 1280×960 photo costs a few milliseconds.
func Grey(img image.Image, maxSide int) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return image.NewGray(image.Rect(0, 0, 0, 0))
	}
	ow, oh := w, h
	if long := max(w, h); maxSide > 0 && long > maxSide {
		ow = max(1, int(math.Round(float64(w)*float64(maxSide)/float64(long))))
		oh = max(1, int(math.Round(float64(h)*float64(maxSide)/float64(long))))
	}
	dst := image.NewGray(image.Rect(0, 0, ow, oh))
	rows := newLumaRows(img)

	if ow == w && oh == h {
		for y := 0; y < h; y++ {
			copy(dst.Pix[y*ow:(y+1)*ow], rows.row(y))
		}
		return dst
	}

	// Horizontal: output column i covers source pixels first[i]..last[i];
	// the two end pixels count with weights wFirst/wLast (out of 256),
	// the ones between in full, so the inner loop is a plain sum. The
	// scale is at least 1, so a pixel is shared by at most two columns.
	cols := columnSpans(w, ow)
	// Vertical: source row y puts weight rw[y]/256 of itself into output
	// row ry[y] and the rest into the next one.
	ry, rw, rowSum := spans(h, oh)
	invCol := make([]float32, ow)
	for i, c := range cols {
		invCol[i] = 1 / float32(c.sum)
	}

	acc := make([]uint32, ow)    // one source row, horizontally reduced
	cur := make([]float32, ow+1) // output row r being accumulated
	nxt := make([]float32, ow+1) // output row r+1 (spill from straddling rows)
	r := 0
	flush := func() {
		if r >= oh {
			return
		}
		// cur holds Σ p·wx·(rw/256); column and row sums are in 1/256 units.
		inv := 256 / float32(rowSum[r])
		out := dst.Pix[r*ow : (r+1)*ow]
		for i := range out {
			out[i] = uint8(min(cur[i]*invCol[i]*inv+0.5, 255))
		}
	}
	for y := 0; y < h; y++ {
		for iy := int(ry[y]); iy > r; r++ {
			flush()
			cur, nxt = nxt, cur
			clear(nxt)
		}
		src := rows.row(y)[:w]
		for i, c := range cols {
			v := uint32(src[c.first]) * c.wFirst
			if c.last > c.first {
				var mid uint32
				for _, p := range src[c.first+1 : c.last] {
					mid += uint32(p)
				}
				v += mid<<8 + uint32(src[c.last])*c.wLast
			}
			acc[i] = v
		}
		fy := float32(rw[y]) / 256
		for i, v := range acc {
			f := float32(v)
			cur[i] += f * fy
			nxt[i] += f * (1 - fy)
		}
	}
	flush()
	return dst
}

// spans maps n source pixels onto m ≤ n output pixels: for each source
// pixel the output index it starts in, its weight there (out of 256; the
// remainder goes to the next output pixel) and, per output pixel, the sum
// of the weights it received, used to normalise exactly despite rounding.
func spans(n, m int) (idx, wt []uint32, sum []uint32) {
	idx = make([]uint32, n)
	wt = make([]uint32, n)
	sum = make([]uint32, m+1)
	scale := float64(n) / float64(m)
	for x := 0; x < n; x++ {
		a, b := float64(x)/scale, float64(x+1)/scale
		i := min(int(a), m-1)
		w := uint32(256)
		if edge := float64(i + 1); b > edge+1e-9 && i+1 < m {
			w = uint32(math.Round(256 * (edge - a) / (b - a)))
		}
		idx[x], wt[x] = uint32(i), w
		sum[i] += w
		sum[i+1] += 256 - w
	}
	return idx, wt, sum
}

// colSpan is the run of source pixels averaged into one output column.
type colSpan struct {
	first, last   int    // first and last source pixel, inclusive
	wFirst, wLast uint32 // their weights out of 256; pixels between count 256
	sum           uint32 // total weight, for exact normalisation
}

// columnSpans is spans regrouped per output pixel.
func columnSpans(n, m int) []colSpan {
	idx, wt, _ := spans(n, m)
	cols := make([]colSpan, m)
	for i := range cols {
		cols[i].first = -1
	}
	for x := 0; x < n; x++ {
		i, w := int(idx[x]), wt[x]
		add := func(i int, w uint32) {
			if w == 0 || i >= m {
				return
			}
			c := &cols[i]
			if c.first < 0 {
				c.first, c.wFirst = x, w
			}
			c.last, c.wLast = x, w
			c.sum += w
		}
		add(i, w)
		add(i+1, 256-w)
	}
	for i := range cols {
		if c := &cols[i]; c.last == c.first {
			c.wLast = 0 // one pixel only: counted once, as first
		}
	}
	return cols
}

// lumaRows hands out one row of 8-bit luma at a time, without copying when
// the picture already stores luma (YCbCr, Gray).
type lumaRows struct {
	img  image.Image
	min  image.Point
	w    int
	buf  []uint8
	ycc  *image.YCbCr
	gray *image.Gray
}

func newLumaRows(img image.Image) *lumaRows {
	b := img.Bounds()
	l := &lumaRows{img: img, min: b.Min, w: b.Dx()}
	switch m := img.(type) {
	case *image.YCbCr:
		l.ycc = m
	case *image.NYCbCrA:
		l.ycc = &m.YCbCr
	case *image.Gray:
		l.gray = m
	default:
		l.buf = make([]uint8, l.w)
	}
	return l
}

// row returns the luma of row y (0-based within the bounds). The slice is
// only valid until the next call.
func (l *lumaRows) row(y int) []uint8 {
	y += l.min.Y
	switch {
	case l.ycc != nil:
		i := l.ycc.YOffset(l.min.X, y)
		return l.ycc.Y[i : i+l.w]
	case l.gray != nil:
		i := l.gray.PixOffset(l.min.X, y)
		return l.gray.Pix[i : i+l.w]
	}
	switch m := l.img.(type) {
	case *image.RGBA:
		// Premultiplied, so transparent areas count as black.
		pix := m.Pix[m.PixOffset(l.min.X, y):]
		for x := range l.buf {
			p := pix[4*x : 4*x+3]
			l.buf[x] = luma8(p[0], p[1], p[2])
		}
	case *image.NRGBA:
		// Alpha is ignored: photos are opaque, and the colour of a
		// transparent pixel still says something about the picture.
		pix := m.Pix[m.PixOffset(l.min.X, y):]
		for x := range l.buf {
			p := pix[4*x : 4*x+3]
			l.buf[x] = luma8(p[0], p[1], p[2])
		}
	default:
		for x := range l.buf {
			r, g, b, _ := l.img.At(l.min.X+x, y).RGBA()
			l.buf[x] = uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
		}
	}
	return l.buf
}

// luma8 is color.GrayModel's conversion for 8-bit channels.
func luma8(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}
