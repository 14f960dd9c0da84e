//go:build !unix

package sign

import "os"

// mapFile reads path whole: without mmap, pure Ed25519 needs the message in
// memory.
func mapFile(path string) ([]byte, func(), error) {
	data, err := os.ReadFile(path)
	return data, func() {}, err
}
