package photo

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// Phones store the sensor's pixels as they come and record how to turn them
// in the EXIF Orientation tag. Telegram re-encodes photos sent the normal
// way (and applies the tag), but a photo sent "as a file" arrives as the
// phone saved it, so without this a selfie would reach the face detector
// lying on its side and the detector would find nothing.

// exifOrientation returns the EXIF Orientation (1–8) of a JPEG, or 1 when
// there is none or the metadata is malformed. It walks the marker segments
// before the image data, which is cheap: each step skips a whole segment,
// and the walk stops at the first Start Of Scan.
func exifOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 1 // lost sync: not worth guessing
		}
		m := data[i+1]
		if m == 0xFF { // fill byte before a marker
			i++
			continue
		}
		i += 2
		switch {
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue // markers without a length
		case m == 0xDA || m == 0xD9:
			return 1 // Start Of Scan or End Of Image: EXIF must come before
		}
		n := int(binary.BigEndian.Uint16(data[i:])) // includes its own 2 bytes
		if n < 2 || i+n > len(data) {
			return 1
		}
		seg := data[i+2 : i+n]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			// Only the first EXIF segment counts, as in other readers.
			return tiffOrientation(seg[6:])
		}
		i += n
	}
	return 1
}

// tiffOrientation finds tag 0x0112 in IFD0 of the TIFF structure inside an
// EXIF segment. The segment is at most 64 KB and every offset is checked
// against it, so hostile metadata can only make it return 1.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	p := int(off) + 2
	for k := 0; k < n; k++ {
		e := p + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		var v int
		switch typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]); {
		case typ == 3 && count == 1: // SHORT, the standard type
			v = int(bo.Uint16(t[e+8:]))
		case typ == 4 && count == 1: // LONG, written by a few tools
			v = int(bo.Uint32(t[e+8:]))
		}
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}

// orient returns img turned upright for EXIF orientation o. Orientation 1
// (or an unknown value) returns img itself. The output keeps the decoder's
// pixel type where it can (YCbCr stays YCbCr, so the Y-plane fast paths
// downstream still apply and memory stays at 1.5 bytes per pixel).
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // the transposing orientations swap width and height
		dw, dh = h, w
	}
	switch src := img.(type) {
	case *image.YCbCr:
		ratio, ok := turnedRatio(src.SubsampleRatio, o >= 5)
		if !ok {
			break // 4:1:1 and 4:1:0 have no transposed form; use RGBA
		}
		dst := image.NewYCbCr(image.Rect(0, 0, dw, dh), ratio)
		transformPlane(dst.Y, dst.YStride, dw, dh, src.Y[src.YOffset(b.Min.X, b.Min.Y):], src.YStride, w, h, 1, o)
		// Each destination chroma sample takes the source sample under the
		// top-left luma pixel of its block. For even sizes that is a plain
		// flip or turn of the chroma plane; for odd sizes it stays aligned
		// with the luma instead of drifting by one sample.
		hs, vs := subsample(ratio)
		cw, ch := (dw+hs-1)/hs, (dh+vs-1)/vs
		for cy := 0; cy < ch; cy++ {
			drow := cy * dst.CStride
			for cx := 0; cx < cw; cx++ {
				sx, sy := sourceXY(o, cx*hs, cy*vs, w, h)
				si := src.COffset(b.Min.X+sx, b.Min.Y+sy)
				dst.Cb[drow+cx] = src.Cb[si]
				dst.Cr[drow+cx] = src.Cr[si]
			}
		}
		return dst
	case *image.Gray:
		dst := image.NewGray(image.Rect(0, 0, dw, dh))
		transformPlane(dst.Pix, dst.Stride, dw, dh, src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride, w, h, 1, o)
		return dst
	case *image.CMYK: // Adobe JPEGs
		dst := image.NewCMYK(image.Rect(0, 0, dw, dh))
		transformPlane(dst.Pix, dst.Stride, dw, dh, src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride, w, h, 4, o)
		return dst
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	transformPlane(dst.Pix, dst.Stride, dw, dh, rgba.Pix, rgba.Stride, w, h, 4, o)
	return dst
}

// sourceXY maps a pixel of the upright picture back to the stored w×h one.
func sourceXY(o, x, y, w, h int) (sx, sy int) {
	switch o {
	case 2: // mirrored
		return w - 1 - x, y
	case 3: // upside down
		return w - 1 - x, h - 1 - y
	case 4: // upside down and mirrored
		return x, h - 1 - y
	case 5: // transposed
		return y, x
	case 6: // stored turned 90° anticlockwise: turn clockwise
		return y, h - 1 - x
	case 7: // transversed
		return w - 1 - y, h - 1 - x
	case 8: // stored turned 90° clockwise: turn anticlockwise
		return w - 1 - y, x
	}
	return x, y
}

// transformPlane fills the dw×dh plane dst from the w×h plane src (bpp bytes
// per pixel) for orientation o. Along a destination row the source index
// moves by a constant step (±bpp or ±stride), so the loop needs no per-pixel
// coordinate arithmetic.
func transformPlane(dst []byte, dstStride, dw, dh int, src []byte, srcStride, w, h, bpp, o int) {
	sx0, sy0 := sourceXY(o, 0, 0, w, h)
	sx1, sy1 := sourceXY(o, 1, 0, w, h)
	step := (sx1-sx0)*bpp + (sy1-sy0)*srcStride
	for y := 0; y < dh; y++ {
		sx, sy := sourceXY(o, 0, y, w, h)
		si := sy*srcStride + sx*bpp
		row := dst[y*dstStride : y*dstStride+dw*bpp]
		if bpp == 1 {
			for x := range row {
				row[x] = src[si]
				si += step
			}
			continue
		}
		for x := 0; x < len(row); x += bpp {
			copy(row[x:x+bpp], src[si:si+bpp])
			si += step
		}
	}
}

// subsample returns the horizontal and vertical chroma subsampling factors.
func subsample(r image.YCbCrSubsampleRatio) (h, v int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// turnedRatio returns the subsampling of the picture after the orientation
// change: transposing swaps the horizontal and vertical factors.
func turnedRatio(r image.YCbCrSubsampleRatio, transpose bool) (image.YCbCrSubsampleRatio, bool) {
	if !transpose {
		return r, true
	}
	switch r {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		return r, true
	case image.YCbCrSubsampleRatio422:
		return image.YCbCrSubsampleRatio440, true
	case image.YCbCrSubsampleRatio440:
		return image.YCbCrSubsampleRatio422, true
	}
	return r, false
}

// videoToFullRange converts a lossy WebP picture in place from the video
// ("studio swing") range VP8 encodes – luma 16–235, chroma 16–240 – to the
// full range that image.YCbCr and color.YCbCrToRGB assume. Without it every
// WebP looks washed out: black comes out as grey 16 and white as 235, which
// would skew brightness and glare measurements.
func videoToFullRange(img image.Image) {
	var m *image.YCbCr
	switch v := img.(type) {
	case *image.YCbCr:
		m = v
	case *image.NYCbCrA:
		m = &v.YCbCr
	default:
		return // lossless WebP decodes to NRGBA, already full range
	}
	var ly, lc [256]uint8
	for i := range 256 {
		ly[i] = clampByte((float64(i)-16)*255/219 + 0.5)
		lc[i] = clampByte((float64(i)-128)*255/224 + 128.5)
	}
	// The whole backing arrays, padding included: simpler than walking
	// rows and no slower, since the VP8 decoder pads only to 16 pixels.
	for i, v := range m.Y {
		m.Y[i] = ly[v]
	}
	for i, v := range m.Cb {
		m.Cb[i] = lc[v]
	}
	for i, v := range m.Cr {
		m.Cr[i] = lc[v]
	}
}

func clampByte(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}
