package bot

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"

	"golang.org/x/image/draw"

	"pensionbot/photo"
)

// Telegram's sendPhoto limits: at most 10 MB, width + height at most
// 10000, and a ratio of the sides of at most 20. The bot accepts image
// files up to 20 MB and 40 MP from people, so what goes to staff may need
// to be made smaller first.
const (
	maxPhotoBytes = 10 << 20
	maxPhotoSides = 10000
	maxPhotoRatio = 20
	// fitLongSide is the longer side of a re-encoded photo: staff compare a
	// face and read an ID number on a screen; 2560 px keeps the number sharp.
	fitLongSide = 2560
)

// fitPhoto returns the photo as it is when sendPhoto takes it, or decoded
// (upright, by its EXIF orientation), scaled down and encoded as JPEG.
func fitPhoto(data []byte) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err == nil && len(data) <= maxPhotoBytes && cfg.Width+cfg.Height <= maxPhotoSides &&
		max(cfg.Width, cfg.Height) <= maxPhotoRatio*max(1, min(cfg.Width, cfg.Height)) {
		return data, nil
	}
	img, _, err := photo.Decode(data, photo.Limits{})
	if err != nil {
		return nil, fmt.Errorf("fit photo: %w", err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if long := max(w, h); long > fitLongSide {
		w, h = w*fitLongSide/long, h*fitLongSide/long
	}
	// A sliver (a panorama) is padded to the largest ratio Telegram takes.
	cw, ch := max(w, 1), max(h, 1)
	if cw > maxPhotoRatio*ch {
		ch = (cw + maxPhotoRatio - 1) / maxPhotoRatio
	} else if ch > maxPhotoRatio*cw {
		cw = (ch + maxPhotoRatio - 1) / maxPhotoRatio
	}
	dst := image.NewRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.ApproxBiLinear.Scale(dst, image.Rect(0, 0, max(w, 1), max(h, 1)), img, b, draw.Over, nil)
	var out bytes.Buffer
	for _, q := range []int{85, 70, 50} {
		out.Reset()
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("fit photo: encode: %w", err)
		}
		if out.Len() <= maxPhotoBytes {
			break
		}
	}
	return out.Bytes(), nil
}
