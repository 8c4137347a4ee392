// Command bigcard writes the sample card as a camera's full-size file:
// 7000×5000 and about 18 MB (noise keeps JPEG from compressing it small).
// Tests run it with `go run`, outside the race detector, which would make
// drawing 35 megapixels take minutes.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand"
	"os"

	"golang.org/x/image/draw"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bigcard <card.jpg> <out.jpg>")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		fail(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 7000, 5000))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	r := rand.New(rand.NewSource(1))
	for i := range dst.Pix {
		if i%4 != 3 {
			dst.Pix[i] = uint8(min(255, max(0, int(dst.Pix[i])+r.Intn(25)-12)))
		}
	}
	f, err := os.Create(os.Args[2])
	if err != nil {
		fail(err)
	}
	if err := jpeg.Encode(f, dst, &jpeg.Options{Quality: 96}); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bigcard:", err)
	os.Exit(1)
}
