// Command gencards writes the synthetic ID-card fixtures of
// internal/cardgen to testdata/cards (or the directory given with -dir).
// Run it from the module root after changing cardgen:
//
//	go run ./cmd/gencards
//
// It needs the font from fonts-droid-fallback (scripts/install-deps.sh).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"pensionbot/internal/cardgen"
)

func main() {
	dir := flag.String("dir", filepath.Join("testdata", "cards"), "directory to write the fixtures to")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*dir); err != nil {
		log.Fatalf("gencards: %v", err)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	total := 0
	for _, f := range cardgen.Fixtures() {
		data, err := f.Encode()
		if err != nil {
			return err
		}
		p := filepath.Join(dir, f.File)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		total += len(data)
		fmt.Printf("%-28s %-9s %7d bytes\n", f.File, f.Variant, len(data))
	}
	fmt.Printf("%d files, %d bytes in %s\n", len(cardgen.Fixtures()), total, dir)
	return nil
}
