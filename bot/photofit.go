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
	img = photo.Shrink(img, fitLongSide)
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	// A sliver (a panorama) is padded to the largest ratio Telegram takes.
	cw, ch := w, h
	if cw > maxPhotoRatio*ch {
		ch = (cw + maxPhotoRatio - 1) / maxPhotoRatio
	} else if ch > maxPhotoRatio*cw {
		cw = (ch + maxPhotoRatio - 1) / maxPhotoRatio
	}
	if cw != w || ch != h {
		canvas := image.NewRGBA(image.Rect(0, 0, cw, ch))
		draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(canvas, b, img, b.Min, draw.Over)
		img = canvas
	}
	var out bytes.Buffer
	for _, q := range []int{85, 70, 50} {
		out.Reset()
		if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("fit photo: encode: %w", err)
		}
		if out.Len() <= maxPhotoBytes {
			break
		}
	}
	return out.Bytes(), nil
}
