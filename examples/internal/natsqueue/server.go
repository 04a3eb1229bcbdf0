package natsqueue

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds the wait for the embedded server to accept
// connections; it is ready in tens of milliseconds.
const readyTimeout = 10 * time.Second

// ErrNotReady is returned by StartServer when the server did not accept
// connections within ten seconds.
var ErrNotReady = errors.New("natsqueue: the NATS server did not become ready")

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns  *server.Server
	dir string
}

// StartServer starts a NATS server in this process, listening on a free
// port of 127.0.0.1, with JetStream storing in a new temporary directory.
func StartServer() (*Server, error) {
	dir, err := os.MkdirTemp("", "otelsentry-nats-")
	if err != nil {
		return nil, fmt.Errorf("natsqueue: %w", err)
	}
	ns, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true, // signals stay the program's
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("natsqueue: %w", err)
	}
	s := &Server{ns: ns, dir: dir}
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		_ = s.Close()
		return nil, ErrNotReady
	}
	return s, nil
}

// URL is the server's client URL, nats://127.0.0.1:<port>.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Dir is the directory JetStream stores in.
func (s *Server) Dir() string { return s.dir }

// Close shuts the server down, waits for it, and removes its storage.
func (s *Server) Close() error {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	return os.RemoveAll(s.dir)
}
