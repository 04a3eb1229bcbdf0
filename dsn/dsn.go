package dsn

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalid is returned, wrapped, for a string that is not a valid DSN.
var ErrInvalid = errors.New("dsn: invalid Sentry DSN")

// DSN is a parsed Sentry DSN.
type DSN struct {
	// Scheme is "http" or "https".
	Scheme string
	// PublicKey identifies the project's client key.
	PublicKey string
	// Host is the ingest host name, without port.
	Host string
	// Port is the explicit port, or "".
	Port string
	// Path is the path prefix before the project id, without slashes at
	// either end ("" for most DSNs).
	Path string
	// ProjectID is the numeric project id.
	ProjectID string
}

// Parse parses s as a DSN. It fails with an error wrapping ErrInvalid when
// the scheme is not http or https, or the public key, host or numeric
// project id is missing.
func Parse(s string) (DSN, error) {
	u, err := url.Parse(s)
	if err != nil {
		return DSN{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return DSN{}, fmt.Errorf("%w: scheme must be http or https", ErrInvalid)
	}
	if u.User == nil || u.User.Username() == "" {
		return DSN{}, fmt.Errorf("%w: missing public key", ErrInvalid)
	}
	if u.Hostname() == "" {
		return DSN{}, fmt.Errorf("%w: missing host", ErrInvalid)
	}
	path := strings.Trim(u.Path, "/")
	prefix, project := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		prefix, project = path[:i], path[i+1:]
	}
	if !isDigits(project) {
		return DSN{}, fmt.Errorf("%w: missing numeric project id", ErrInvalid)
	}
	return DSN{
		Scheme:    u.Scheme,
		PublicKey: u.User.Username(),
		Host:      u.Hostname(),
		Port:      u.Port(),
		Path:      prefix,
		ProjectID: project,
	}, nil
}

// OrgID returns the organization id encoded in the host's first label
// ("o" followed by digits only, as in o123.ingest.sentry.io), or "".
func (d DSN) OrgID() string {
	label, _, _ := strings.Cut(d.Host, ".")
	if len(label) > 1 && label[0] == 'o' && isDigits(label[1:]) {
		return label[1:]
	}
	return ""
}

// APIURL returns the base URL of the project's API,
// {scheme}://{host}[:{port}]/[{path}/]api/{project_id}.
func (d DSN) APIURL() string {
	host := d.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if d.Port != "" {
		host += ":" + d.Port
	}
	path := "/api/" + d.ProjectID
	if d.Path != "" {
		path = "/" + d.Path + path
	}
	return d.Scheme + "://" + host + path
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
