// Package files writes small trees of files, such as the repositories and
// modules the tools' tests build.
package files

import (
	"os"
	"path/filepath"
)

// Write creates each file of files under root, named by its slash-separated
// path, with its parent directories.
func Write(root string, files map[string]string) error {
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
