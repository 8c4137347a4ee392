package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"

	"pensionbot/photo"
)

// telegramLongSide is the longer side of a photo as Telegram delivers a
// compressed photo to bots.
const telegramLongSide = 1280

// telegramPhoto does to an uploaded picture what Telegram does to a photo
// (as opposed to a file): turned upright by its EXIF orientation, scaled
// down to 1280 pixels on the longer side, re-encoded as JPEG without
// metadata. The bot then sees what it would see from a phone.
func telegramPhoto(data []byte) ([]byte, error) {
	img, _, err := photo.Decode(data, photo.Limits{})
	if err != nil {
		if errors.Is(err, photo.ErrNotImage) || errors.Is(err, photo.ErrUnsupported) {
			return nil, errors.New("not a JPEG, PNG or WebP picture: send it as a file instead")
		}
		return nil, fmt.Errorf("cannot use this picture as a photo: %v", err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo.Shrink(img, telegramLongSide), &jpeg.Options{Quality: 87}); err != nil {
		return nil, fmt.Errorf("encode photo: %w", err)
	}
	return buf.Bytes(), nil
}
