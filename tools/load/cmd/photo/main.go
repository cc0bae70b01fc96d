// Command photo writes a photo-like JPEG (quality 90) for benchmarks:
//
//	go run ./tools/load/cmd/photo -size 6000x4000 -o /tmp/camera-24mp.jpg
package main

import (
	"flag"
	"fmt"
	"log"

	"pixshare/platform/phototest"
)

func main() {
	size := flag.String("size", "6000x4000", "width x height in pixels")
	out := flag.String("o", "photo.jpg", "file to write")
	seed := flag.Uint64("seed", 7, "scene seed")
	flag.Parse()
	var w, h int
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
		log.Fatalf("-size %q: want WIDTHxHEIGHT", *size)
	}
	if err := phototest.WriteJPEG(*out, w, h, *seed); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s (%dx%d)\n", *out, w, h)
}
