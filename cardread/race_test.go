//go:build race

package cardread

// raceDetector is set when the tests run with -race, which makes image
// processing in Go several times slower (see TestTesseractShots).
const raceDetector = true
