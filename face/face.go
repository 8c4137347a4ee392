// Package face finds faces in selfies for the annual pension certification:
// the bot needs one clear, frontal face of the pensioner before it compares
// it with the ID card, and Check says in plain terms what is wrong when
// there is not (nobody in the picture, several people, too far away, head
// cut off), so the person can retake the photo at once.
//
// Detection uses pigo (github.com/esimov/pigo, MIT), a pure-Go port of the
// pico pixel-intensity-comparison cascade. It needs no cgo and no model
// download: the frontal-face cascade is embedded (see NOTICE). Pictures are
// reduced to a small greyscale copy first, which is where most of the speed
// comes from: a 1280×960 photo takes about ten milliseconds on one core.
// Only upright, frontal faces are found; photo.Decode turns pictures upright
// by their EXIF orientation beforehand.
package face

import (
	_ "embed"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"

	pigo "github.com/esimov/pigo/core"

	"pensionbot/photo"
)

// facefinder is pigo's frontal-face cascade (cascade/facefinder in
// github.com/esimov/pigo v1.4.6, originally from pico by Nenad Markuš).
//
//go:embed facefinder
var facefinder []byte

// Detection parameters. They were tuned on the portrait in pigo's testdata
// (as it is, framed as a 1280×960 photo, cropped and paired) and on
// pictures without faces (flat colours, noise, a card full of text); see
// face_test.go.
const (
	// workSide is the longer side of the greyscale copy the cascade runs
	// on. Faces that matter are at least a tenth of the shorter side, so
	// 480 px (360 px shorter side for 4:3) leaves them 36 px or more,
	// where pigo is reliable; the scan cost grows with the area.
	workSide = 480
	// minFaceShare is the smallest face searched for, as a share of the
	// shorter side. Smaller faces are background people or photos on the
	// wall, which say nothing about the selfie.
	minFaceShare = 0.1
	// minPixels is the smallest window pigo can classify reliably.
	minPixels = 24
	// shiftFactor and scaleFactor are pigo's scan steps: the window moves
	// by 10 % of its size and grows by 10 % per scale, the values of
	// pigo's documentation. MinQuality depends on them, since denser
	// steps put more windows into each face's cluster.
	shiftFactor = 0.1
	scaleFactor = 1.1
	// iouThreshold merges overlapping windows into one face, as in pigo's
	// examples.
	iouThreshold = 0.2
	// MinQuality is the cluster score (the summed scores of the windows
	// merged into one face) a face needs. The sample portrait scores
	// 180–470 framed in any way, and still over 300 darkened to 30 %, at
	// 30 % contrast, with heavy noise, blurred by scaling down 8× and up
	// again or saved at JPEG quality 30; half-cut faces 58–220. Flat
	// pictures, pixel noise and text score under 10. The hardest negatives
	// are random blotches a few pixels wide, like foliage or patterned
	// cloth: 99 % of them stay under 33, the worst of 210 reached 65. A
	// false "no face" blocks a pensioner, while a texture mistaken for a
	// face is nearly always reported as too small, so the threshold sits
	// low in the gap.
	MinQuality = 40.0

	// MinFaceShare is the smallest face Check accepts, as a share of the
	// picture's shorter side. pigo's square spans about ear to ear, so 0.2
	// is a head a fifth of the frame wide: an arm's-length selfie is well
	// above it, while a picture taken from across the room is told to
	// come closer, since face matching needs the detail.
	MinFaceShare = 0.2
	// OtherFaceShare is how large, relative to the largest face, another
	// face must be to count as a second person. A helper standing next to
	// the pensioner counts; a small face far behind them does not.
	OtherFaceShare = 0.5
	// The cut-off margins are how much room, as shares of the face size,
	// Check wants between pigo's square and the frame edge. The square
	// spans from the hairline to just below the mouth and from ear to ear
	// (see the sample portrait), so below it the chin needs about 0.15
	// more, while at the top and sides a little slack is enough: hair may
	// be cut, the forehead and ears may not.
	CutMarginSide   = 0.05
	CutMarginTop    = 0.05
	CutMarginBottom = 0.2
)

// Detector finds faces. It is safe for concurrent use: pigo's classifier is
// read-only after unpacking.
type Detector struct {
	classifier *pigo.Pigo
}

// unpack decodes the embedded cascade once per process; every Detector
// shares the result.
var unpack = sync.OnceValues(func() (c *pigo.Pigo, err error) {
	// pigo.Unpack indexes the data without bounds checks of its own; the
	// file is embedded, so a panic here would be a build defect, but it
	// should still surface as an error rather than crash the bot.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("face: unpack cascade: %v", r)
		}
	}()
	if len(facefinder) < 16 {
		return nil, fmt.Errorf("face: cascade is %d bytes", len(facefinder))
	}
	return pigo.NewPigo().Unpack(facefinder)
})

// NewDetector returns a Detector using the embedded frontal-face cascade.
func NewDetector() (*Detector, error) {
	c, err := unpack()
	if err != nil {
		return nil, err
	}
	return &Detector{classifier: c}, nil
}

// Face is a detected face: the centre (X, Y) and side Size of pigo's square,
// in pixels of the image passed in (its own coordinates, so bounds that do
// not start at 0,0 are respected), and the cluster quality Q.
type Face struct {
	X, Y, Size int
	Q          float32
}

// Detect returns the frontal, upright faces in img whose side is at least a
// tenth of the shorter side of the picture and whose score reaches
// MinQuality, largest first.
func (d *Detector) Detect(img image.Image) []Face {
	return d.detect(img, MinQuality)
}

// detect is Detect with the quality threshold as a parameter, so tests can
// see the scores of what the threshold rejects.
func (d *Detector) detect(img image.Image, minQ float32) []Face {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil
	}
	g := photo.Grey(img, workSide)
	w, h := g.Rect.Dx(), g.Rect.Dy()
	short := min(w, h)
	minSize := max(minPixels, int(minFaceShare*float64(short)))
	if minSize > short {
		return nil
	}
	dets := d.classifier.RunCascade(pigo.CascadeParams{
		MinSize:     minSize,
		MaxSize:     short,
		ShiftFactor: shiftFactor,
		ScaleFactor: scaleFactor,
		ImageParams: pigo.ImageParams{Pixels: g.Pix, Rows: h, Cols: w, Dim: g.Stride},
	}, 0)
	clusters := cluster(dets)

	// From the working copy back to the caller's pixels.
	sx, sy := float64(b.Dx())/float64(w), float64(b.Dy())/float64(h)
	var faces []Face
	for _, c := range clusters {
		if c.Q < minQ {
			continue
		}
		faces = append(faces, Face{
			X:    b.Min.X + int(math.Round(c.col*sx)),
			Y:    b.Min.Y + int(math.Round(c.row*sy)),
			Size: int(math.Round(c.size * (sx + sy) / 2)),
			Q:    c.Q,
		})
	}
	slices.SortFunc(faces, func(a, b Face) int {
		if a.Size != b.Size {
			return b.Size - a.Size
		}
		switch {
		case a.Q > b.Q:
			return -1
		case a.Q < b.Q:
			return 1
		}
		return 0
	})
	return faces
}

// group is a cluster of detection windows: their mean position and size
// and their summed score.
type group struct {
	row, col, size float64
	Q              float32
}

// cluster merges the windows pigo reports around each face. pigo's own
// ClusterDetections seeds clusters from the weakest window, which can split
// one face into two nearly identical clusters (seen on the sample portrait
// framed in a 1280×960 photo); seeding from the strongest window avoids
// that. A cluster whose centre lies inside a stronger one's square is a
// fringe of the same face, not a second person, and is dropped.
func cluster(dets []pigo.Detection) []group {
	slices.SortFunc(dets, func(a, b pigo.Detection) int {
		switch {
		case a.Q > b.Q:
			return -1
		case a.Q < b.Q:
			return 1
		}
		return 0
	})
	used := make([]bool, len(dets))
	var groups []group
	for i, seed := range dets {
		if used[i] {
			continue
		}
		var g group
		n := 0
		for j, det := range dets {
			if used[j] || iou(seed, det) <= iouThreshold {
				continue
			}
			used[j] = true
			g.row += float64(det.Row)
			g.col += float64(det.Col)
			g.size += float64(det.Scale)
			g.Q += det.Q
			n++
		}
		g.row, g.col, g.size = g.row/float64(n), g.col/float64(n), g.size/float64(n)
		inside := false
		for _, o := range groups {
			if math.Abs(g.row-o.row) < o.size/2 && math.Abs(g.col-o.col) < o.size/2 {
				inside = true
				break
			}
		}
		if !inside {
			groups = append(groups, g)
		}
	}
	return groups
}

// iou is the intersection over union of two detection squares.
func iou(a, b pigo.Detection) float64 {
	r1, c1, s1 := float64(a.Row), float64(a.Col), float64(a.Scale)
	r2, c2, s2 := float64(b.Row), float64(b.Col), float64(b.Scale)
	dr := max(0, min(r1+s1/2, r2+s2/2)-max(r1-s1/2, r2-s2/2))
	dc := max(0, min(c1+s1/2, c2+s2/2)-max(c1-s1/2, c2-s2/2))
	inter := dr * dc
	return inter / (s1*s1 + s2*s2 - inter)
}

// Problem is what is wrong with a selfie, "" (OK) if nothing is. The
// values are stable strings so they can key localised hints.
type Problem string

// Problems, in the order Check reports them.
const (
	OK           Problem = ""
	NoFace       Problem = "no_face"
	ManyFaces    Problem = "many_faces"
	FaceTooSmall Problem = "face_too_small"
	FaceCutOff   Problem = "face_cut_off"
)

// Check wants exactly one frontal face, at least MinFaceShare of the
// shorter side, with the whole head inside the frame. It returns the
// largest face found (zero with NoFace) and the first problem in the order
// NoFace, ManyFaces, FaceTooSmall, FaceCutOff.
func (d *Detector) Check(img image.Image) (Face, Problem) {
	faces := d.Detect(img)
	if len(faces) == 0 {
		return Face{}, NoFace
	}
	f := faces[0]
	for _, o := range faces[1:] {
		if float64(o.Size) >= OtherFaceShare*float64(f.Size) {
			return f, ManyFaces
		}
	}
	b := img.Bounds()
	if float64(f.Size) < MinFaceShare*float64(min(b.Dx(), b.Dy())) {
		return f, FaceTooSmall
	}
	// pigo only reports windows wholly inside the picture, so a face that
	// is cut off either goes undetected or is found squeezed against the
	// edge; the margins catch the second case.
	x, y, s := float64(f.X), float64(f.Y), float64(f.Size)
	side := s * (0.5 + CutMarginSide)
	if x-side < float64(b.Min.X) || x+side > float64(b.Max.X) ||
		y-s*(0.5+CutMarginTop) < float64(b.Min.Y) || y+s*(0.5+CutMarginBottom) > float64(b.Max.Y) {
		return f, FaceCutOff
	}
	return f, OK
}
