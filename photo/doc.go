// Package photo takes in the pictures people send to the bot (a photo of
// the ID card, a selfie) and judges whether they are good enough to use.
//
// Intake is defensive because the bytes come from strangers: Decode refuses
// oversized files before looking at them, reads only the header to learn the
// dimensions and refuses decompression bombs before any pixel memory is
// allocated, accepts only JPEG, PNG and WebP, and turns JPEGs that were sent
// "as a file" upright according to their EXIF orientation (Telegram strips
// EXIF from compressed photos but not from documents, and phones store most
// pictures sideways with an orientation tag).
//
// The quality checks are deliberately cheap and explainable so the bot can
// tell an elderly user what to fix ("too dark", "blurred") instead of
// silently failing later in card reading or face matching. Measure works on
// a greyscale copy whose longer side is at most MeasureSide pixels: that
// keeps the cost of a 1280×960 photo to a few milliseconds and makes the
// numbers independent of the camera's resolution, so one set of thresholds
// fits every phone.
package photo
