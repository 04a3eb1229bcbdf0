package readme

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNoProgram reports markdown without exactly one Go code block that
// holds a main package.
var ErrNoProgram = errors.New("readme: want exactly one ```go block with package main")

// Program returns the Go code block of markdown that begins with the
// package clause of a main package, without its fences.
func Program(markdown []byte) ([]byte, error) {
	var (
		programs [][]byte
		block    *bytes.Buffer
	)
	sc := bufio.NewScanner(bytes.NewReader(markdown))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case block == nil && strings.TrimSpace(line) == "```go":
			block = new(bytes.Buffer)
		case block != nil && strings.TrimSpace(line) == "```":
			if strings.HasPrefix(block.String(), "package main\n") {
				programs = append(programs, block.Bytes())
			}
			block = nil
		case block != nil:
			block.WriteString(line)
			block.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if block != nil {
		return nil, fmt.Errorf("%w: a ```go block is never closed", ErrNoProgram)
	}
	if len(programs) != 1 {
		return nil, fmt.Errorf("%w: found %d", ErrNoProgram, len(programs))
	}
	return programs[0], nil
}

// ProgramFile returns the program of the Markdown file name, as Program
// finds it.
func ProgramFile(name string) ([]byte, error) {
	md, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Program(md)
}
