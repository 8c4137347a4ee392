// Package intake checks the photos people send before they are kept:
// decoding safely (size and dimensions first, so a decompression bomb costs
// nothing), then quality (light, glare, focus, size), then, for faces,
// exactly one frontal face that is large enough and not cut off. It maps
// what package photo and package face find to the problems flows explain.
package intake

import (
	"context"
	"errors"
	"fmt"

	"image"

	"pensionbot/face"
	"pensionbot/flows"
	"pensionbot/photo"
)

var _ flows.ImageChecker = (*Checker)(nil)

// Checker is safe for concurrent use.
type Checker struct {
	faces *face.Detector
	card  photo.Limits
	face  photo.Limits
}

// New loads the face detector.
func New() (*Checker, error) {
	d, err := face.NewDetector()
	if err != nil {
		return nil, fmt.Errorf("load face detector: %w", err)
	}
	faceLimits := photo.DefaultLimits
	// A portrait is taller than wide and a face needs fewer pixels than
	// the small print of a card.
	faceLimits.MinWidth, faceLimits.MinHeight = 320, 320
	return &Checker{faces: d, card: photo.CardLimits, face: faceLimits}, nil
}

// CheckCard checks a photo of an ID card.
func (c *Checker) CheckCard(_ context.Context, data []byte) (flows.PhotoProblem, error) {
	img, problem, err := c.decode(data, c.card)
	if err != nil || problem != flows.PhotoOK {
		return problem, err
	}
	return quality(photo.Measure(img).Problem(c.card)), nil
}

// CheckFace checks a photo of a face.
func (c *Checker) CheckFace(_ context.Context, data []byte) (flows.PhotoProblem, error) {
	img, problem, err := c.decode(data, c.face)
	if err != nil || problem != flows.PhotoOK {
		return problem, err
	}
	if p := quality(photo.Measure(img).Problem(c.face)); p != flows.PhotoOK {
		return p, nil
	}
	_, fp := c.faces.Check(img)
	switch fp {
	case face.OK:
		return flows.PhotoOK, nil
	case face.NoFace:
		return flows.PhotoNoFace, nil
	case face.ManyFaces:
		return flows.PhotoManyFaces, nil
	case face.FaceTooSmall:
		return flows.PhotoFaceSmall, nil
	case face.FaceCutOff:
		return flows.PhotoFaceCut, nil
	}
	return flows.PhotoNoFace, nil
}

func (c *Checker) decode(data []byte, lim photo.Limits) (img image.Image, p flows.PhotoProblem, err error) {
	img, _, err = photo.Decode(data, lim)
	switch {
	case err == nil:
		return img, flows.PhotoOK, nil
	case errors.Is(err, photo.ErrTooLarge), errors.Is(err, photo.ErrTooManyPixels):
		return nil, flows.PhotoTooLarge, nil
	case errors.Is(err, photo.ErrNotImage), errors.Is(err, photo.ErrUnsupported):
		return nil, flows.PhotoNotImage, nil
	case errors.Is(err, photo.ErrTooSmall):
		return nil, flows.PhotoTooSmall, nil
	}
	// A file that claims to be an image but is broken is the person's
	// problem to fix, not ours.
	return nil, flows.PhotoNotImage, nil
}

func quality(p photo.Problem) flows.PhotoProblem {
	switch p {
	case photo.TooSmall:
		return flows.PhotoTooSmall
	case photo.TooDark:
		return flows.PhotoTooDark
	case photo.Overexposed:
		return flows.PhotoOverexposed
	case photo.Blurred:
		return flows.PhotoBlurred
	case photo.UnevenLight:
		return flows.PhotoUnevenLight
	}
	return flows.PhotoOK
}
