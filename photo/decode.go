package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// MaxFileBytes is the largest file the Telegram Bot API lets a bot download
// with getFile (20 MB). Anything bigger cannot have come through Telegram.
const MaxFileBytes = 20 << 20

// Limits bounds what Decode accepts and what Quality.Problem calls too small.
type Limits struct {
	// MaxBytes is the largest accepted file. Zero means MaxFileBytes.
	MaxBytes int64
	// MaxPixels is the largest accepted width×height. It caps decoder memory
	// (a baseline JPEG needs about 1.5 bytes per pixel, an RGBA PNG 4) no
	// matter how well the file compresses. Zero means DefaultLimits.MaxPixels.
	MaxPixels int
	// MinWidth and MinHeight are the smallest useful picture. They are
	// compared without regard to orientation: the longer side must reach
	// max(MinWidth, MinHeight) and the shorter side min(MinWidth, MinHeight),
	// so a portrait selfie and a landscape card photo are judged alike.
	// Zero disables the check.
	MinWidth, MinHeight int
	// MinEvenness is the Quality.Evenness below which Quality.Problem
	// reports UnevenLight. Zero disables the check, as for portraits; use
	// CardLimits for photos of cards.
	MinEvenness float64
}

// DefaultLimits suits Telegram. The minimum size is set by what the card
// reader still reads. Measured with the tesseract reader on cardgen photos
// of a card filling 85 % of the frame, JPEG quality 85, six cards per
// size (cardread's TestMinimumSizeReads keeps the chosen minimum honest),
// it gave the exact number on 6 of 6 cards
// at 600×450, 520×390, 480×360, 440×330, 400×300 and 360×270, and the
// exact name on 5 of 6 down to 520×390, 3 of 6 at 480×360 and none at
// 400×300. 480×360 keeps the number readable with a margin for a card
// that fills less of the frame, while names mostly still read; the old
// 640×400 refused photos just under it that read well. A face needs its
// own, smaller minimum (see intake). 40 megapixels admits every phone
// camera in normal modes (12–24 MP, and 48/50 MP sensors save 12 MP by
// default).
var DefaultLimits = Limits{
	MaxBytes:  MaxFileBytes,
	MaxPixels: 40_000_000,
	MinWidth:  480,
	MinHeight: 360,
}

// CardLimits are DefaultLimits with the check for a shadow over part of
// the card (MinEvenness), for photos of ID cards.
var CardLimits = func() Limits {
	lim := DefaultLimits
	lim.MinEvenness = MinEvenness
	return lim
}()

// Format names the container a picture was decoded from.
type Format string

// Supported formats. These are what phones and Telegram produce; GIF, BMP,
// TIFF and HEIC are refused with ErrUnsupported.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
)

// Errors returned by Decode; test for them with errors.Is. They are distinct
// so the bot can give a specific hint (send a photo, not a PDF; send as a
// photo rather than as a file; move closer).
var (
	ErrTooLarge      = errors.New("photo: file too large")
	ErrTooManyPixels = errors.New("photo: too many pixels")
	ErrNotImage      = errors.New("photo: not an image")
	ErrUnsupported   = errors.New("photo: unsupported image format")
	ErrTooSmall      = errors.New("photo: image too small")
)

// withDefaults fills the upper bounds. They are never "unlimited": a zero
// Limits must not turn off the protection against decompression bombs.
func (lim Limits) withDefaults() Limits {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxPixels <= 0 {
		lim.MaxPixels = DefaultLimits.MaxPixels
	}
	return lim
}

// tooSmall reports whether a w×h picture is below lim's minimum, in either
// orientation.
func (lim Limits) tooSmall(w, h int) bool {
	long, short := max(w, h), min(w, h)
	return long < max(lim.MinWidth, lim.MinHeight) || short < min(lim.MinWidth, lim.MinHeight)
}

// Decode checks and decodes a JPEG, PNG or WebP picture. Checks run from the
// cheapest up: the byte count, the magic number, then the header's
// dimensions (MaxPixels, then the minimum size), and only then are pixels
// decoded, so a hostile file costs almost nothing.
//
// JPEGs are turned upright according to their EXIF orientation. Lossy WebP
// pictures are converted from the video range (luma 16–235) that VP8 uses to
// the full range that image.YCbCr assumes, so colours and the brightness
// Measure sees are right. The returned image's bounds start at (0, 0).
func Decode(data []byte, lim Limits) (image.Image, Format, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	f, err := sniff(data)
	if err != nil {
		return nil, "", err
	}

	// The format-specific DecodeConfig functions are called directly rather
	// than image.DecodeConfig so that formats other packages register (GIF,
	// BMP...) can never slip through.
	var cfg image.Config
	switch f {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case WebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, f, fmt.Errorf("%w: bad %s header: %v", ErrNotImage, f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, f, fmt.Errorf("%w: %s header says %dx%d", ErrNotImage, f, cfg.Width, cfg.Height)
	}
	// int64 so that a 100000×100000 claim cannot overflow on 32-bit builds.
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(lim.MaxPixels) {
		return nil, f, fmt.Errorf("%w: %dx%d, limit %d pixels", ErrTooManyPixels, cfg.Width, cfg.Height, lim.MaxPixels)
	}
	if lim.tooSmall(cfg.Width, cfg.Height) {
		return nil, f, fmt.Errorf("%w: %dx%d, need at least %dx%d", ErrTooSmall, cfg.Width, cfg.Height, lim.MinWidth, lim.MinHeight)
	}

	var img image.Image
	switch f {
	case JPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case PNG:
		img, err = png.Decode(bytes.NewReader(data))
	case WebP:
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, f, fmt.Errorf("%w: bad %s data: %v", ErrNotImage, f, err)
	}
	// The decoders allocate from the same header DecodeConfig read, but a
	// mismatch would mean the size check above checked the wrong thing.
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, f, fmt.Errorf("%w: %s header says %dx%d, data is %dx%d", ErrNotImage, f, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}

	switch f {
	case JPEG:
		img = orient(img, exifOrientation(data))
	case WebP:
		videoToFullRange(img)
	}
	return img, f, nil
}

// sniff tells the format from the magic number. Known formats that Decode
// does not handle get ErrUnsupported, so the bot can ask for a normal photo
// rather than claim the file is not a picture at all.
func sniff(data []byte) (Format, error) {
	has := func(off int, magic string) bool {
		return len(data) >= off+len(magic) && string(data[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return JPEG, nil
	case has(0, "\x89PNG\r\n\x1a\n"):
		return PNG, nil
	case has(0, "RIFF") && has(8, "WEBP"):
		// An animated WebP (VP8X with the animation flag) is a sticker or
		// a GIF replacement; x/image/webp cannot decode it.
		if has(12, "VP8X") && len(data) > 20 && data[20]&0x02 != 0 {
			return "", fmt.Errorf("%w: animated webp", ErrUnsupported)
		}
		return WebP, nil
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "", fmt.Errorf("%w: gif", ErrUnsupported)
	case isBMP(data):
		return "", fmt.Errorf("%w: bmp", ErrUnsupported)
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "", fmt.Errorf("%w: tiff", ErrUnsupported)
	case has(4, "ftyp"):
		// ISO base media: HEIC/HEIF/AVIF pictures from iPhones and newer
		// Androids sent as files, but also MP4 videos.
		if len(data) >= 12 {
			switch string(data[8:12]) {
			case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis":
				return "", fmt.Errorf("%w: %s", ErrUnsupported, data[8:12])
			}
		}
	}
	return "", ErrNotImage
}

// isBMP checks more than the two-letter "BM" magic, which plenty of text
// files start with: the DIB header that follows has one of a few sizes.
func isBMP(data []byte) bool {
	if len(data) < 18 || data[0] != 'B' || data[1] != 'M' {
		return false
	}
	if data[15] != 0 || data[16] != 0 || data[17] != 0 {
		return false
	}
	switch data[14] {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}
