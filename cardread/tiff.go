package cardread

import (
	"encoding/binary"
	"image"
)

// multiTIFF encodes pages as one uncompressed, 8-bit grey, multi-page TIFF
// at 300 dpi. Piped to tesseract's stdin, it lets one process (one model
// load, which costs more than reading a line) read several crops, without
// writing pictures of someone's ID card to disk.
func multiTIFF(pages []*image.Gray) []byte {
	le := binary.LittleEndian
	out := []byte{'I', 'I', 42, 0, 0, 0, 0, 0} // header; first IFD offset patched below
	next := 4                                  // where to write the next IFD's offset
	for _, g := range pages {
		w, h := g.Bounds().Dx(), g.Bounds().Dy()
		// Pixel data, row by row.
		dataOff := len(out)
		for y := 0; y < h; y++ {
			out = append(out, g.Pix[y*g.Stride:y*g.Stride+w]...)
		}
		if len(out)%2 == 1 {
			out = append(out, 0) // IFDs start on a word boundary
		}
		// Resolution: one RATIONAL 300/1, shared by X and Y.
		resOff := len(out)
		out = le.AppendUint32(out, 300)
		out = le.AppendUint32(out, 1)

		type entry struct {
			tag, typ uint16
			value    uint32
		}
		const short, long, rational = 3, 4, 5
		entries := []entry{
			{256, long, uint32(w)},       // ImageWidth
			{257, long, uint32(h)},       // ImageLength
			{258, short, 8},              // BitsPerSample
			{259, short, 1},              // Compression: none
			{262, short, 1},              // PhotometricInterpretation: BlackIsZero
			{273, long, uint32(dataOff)}, // StripOffsets
			{277, short, 1},              // SamplesPerPixel
			{278, long, uint32(h)},       // RowsPerStrip
			{279, long, uint32(w * h)},   // StripByteCounts
			{282, rational, uint32(resOff)},
			{283, rational, uint32(resOff)},
			{296, short, 2}, // ResolutionUnit: inch
		}
		ifd := len(out)
		le.PutUint32(out[next:], uint32(ifd))
		out = le.AppendUint16(out, uint16(len(entries)))
		for _, e := range entries {
			out = le.AppendUint16(out, e.tag)
			out = le.AppendUint16(out, e.typ)
			out = le.AppendUint32(out, 1)
			if e.typ == short {
				out = le.AppendUint16(out, uint16(e.value))
				out = le.AppendUint16(out, 0)
			} else {
				out = le.AppendUint32(out, e.value)
			}
		}
		next = len(out)
		out = le.AppendUint32(out, 0) // no next IFD (patched by the next page)
	}
	return out
}
