//go:build race

package main

// The race detector makes CPU-bound work (decoding and re-encoding a
// camera-sized photo) several times slower; waits allow for it.
func init() { slowdown = 4 }
