package photo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"golang.org/x/image/draw"
)

// DataURL encodes img as a JPEG data URL for vision models, scaled down so
// that its longer side is at most maxSide: a model needs no more, and
// every pixel sent costs time and money.
func DataURL(img image.Image, maxSide int) (string, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Shrink(img, maxSide), &jpeg.Options{Quality: 85}); err != nil {
		return "", fmt.Errorf("encode jpeg: %w", err)
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Shrink returns img scaled down so that its longer side is at most
// maxSide (0: no limit), or img itself when it is small enough. The bounds
// of a scaled picture start at (0, 0).
func Shrink(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	long := max(b.Dx(), b.Dy())
	if maxSide <= 0 || long <= maxSide {
		return img
	}
	f := float64(maxSide) / float64(long)
	w := max(1, int(math.Round(float64(b.Dx())*f)))
	h := max(1, int(math.Round(float64(b.Dy())*f)))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
