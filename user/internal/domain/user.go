// Package domain holds the user service's types and the rules they keep.
package domain

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"pixshare/platform/apperror"
)

// Status of an account.
type Status string

// Account statuses.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	StatusDeleted   Status = "deleted"
)

// User is an account.
type User struct {
	ID             string
	Username       string
	Email          string
	PasswordHash   string
	DisplayName    string
	Bio            string
	Status         Status
	TokenVersion   int
	FollowerCount  int64
	FollowingCount int64
	// AvatarVersion is the avatar served (0: none); AvatarPending the one
	// being made from a new upload (0: none).
	AvatarVersion int64
	AvatarPending int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AvatarURL is where the user's avatar is served, "" without one. It
// changes with every new avatar, so what is behind it never changes.
func (u User) AvatarURL() string {
	if u.AvatarVersion == 0 {
		return ""
	}
	return fmt.Sprintf("/v1/users/%s/avatar?v=%d", u.ID, u.AvatarVersion)
}

// Relationship is how a viewer stands to another user.
type Relationship struct {
	// Following: the viewer follows the user; FollowedBy: the user follows
	// the viewer; Blocking: the viewer blocks the user.
	Following, FollowedBy, Blocking bool
	// BlockedBy: the user blocks the viewer (never shown: the viewer does
	// not see the user at all then).
	BlockedBy bool
}

// Limits of the profile fields.
const (
	UsernameMin    = 3
	UsernameMax    = 30
	PasswordMin    = 10
	PasswordMax    = 128
	EmailMax       = 254
	DisplayNameMax = 50
	BioMax         = 500
)

// ParseUsername normalises (trims, lower-cases) and checks a username:
// 3–30 characters of a-z, 0-9, '_' and '.'.
func ParseUsername(raw string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(raw))
	if n := len(u); n < UsernameMin || n > UsernameMax {
		return "", invalidField("username", "must be 3 to 30 characters")
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return "", invalidField("username", "may only contain a-z, 0-9, '_' and '.'")
		}
	}
	return u, nil
}

// ParseEmail checks the shape of an address (local@domain.tld, no display
// name, no spaces) and lower-cases it, so uniqueness ignores case.
func ParseEmail(raw string) (string, error) {
	e := strings.TrimSpace(raw)
	bad := invalidField("email", "must be an email address like name@example.com")
	if e == "" || len(e) > EmailMax || strings.ContainsAny(e, " \t\r\n<>\"") {
		return "", bad
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		return "", bad
	}
	at := strings.LastIndexByte(e, '@')
	local, domain := e[:at], e[at+1:]
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", bad
	}
	return strings.ToLower(e), nil
}

// CheckPassword enforces 10–128 characters.
func CheckPassword(p string) error {
	if n := utf8.RuneCountInString(p); n < PasswordMin || n > PasswordMax {
		return invalidField("password", "must be 10 to 128 characters")
	}
	return nil
}

// CheckDisplayName enforces the display name limit.
func CheckDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > DisplayNameMax {
		return "", invalidField("display_name", "must be at most 50 characters")
	}
	if !printable(s) {
		return "", invalidField("display_name", "must not contain control characters")
	}
	return s, nil
}

// CheckBio enforces the bio limit. Line breaks and tabs are allowed; other
// control characters (NUL among them, which PostgreSQL cannot store) are
// not.
func CheckBio(s string) (string, error) {
	if utf8.RuneCountInString(s) > BioMax {
		return "", invalidField("bio", "must be at most 500 characters")
	}
	if !utf8.ValidString(s) {
		return "", invalidField("bio", "must be valid UTF-8")
	}
	for _, c := range s {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f {
			return "", invalidField("bio", "must not contain control characters")
		}
	}
	return s, nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func invalidField(field, msg string) error {
	return apperror.Newf(apperror.Unprocessable, "%s %s", field, msg).
		WithFields(apperror.FieldError{Field: field, Message: msg})
}

// Registration is a validated sign-up.
type Registration struct {
	Username string
	Email    string
	Password string
}

// NewRegistration validates every field and reports all problems at once.
func NewRegistration(username, email, password string) (Registration, error) {
	var fields []apperror.FieldError
	collect := func(err error) {
		if e, ok := apperror.As(err); ok {
			fields = append(fields, e.Fields...)
		}
	}
	u, err := ParseUsername(username)
	collect(err)
	e, err := ParseEmail(email)
	collect(err)
	collect(CheckPassword(password))
	if len(fields) > 0 {
		return Registration{}, apperror.New(apperror.Unprocessable, "registration is not valid").WithFields(fields...)
	}
	return Registration{Username: u, Email: e, Password: password}, nil
}

// ProfilePatch is a validated edit of one's own profile; nil fields stay.
type ProfilePatch struct {
	DisplayName *string
	Bio         *string
	Email       *string
	Password    *string
	// CurrentPassword proves the caller knows the password: a change of the
	// email or the password needs it.
	CurrentPassword *string
}

// Sensitive reports whether the patch changes what takes an account over
// (email, password): those need the current password.
func (p ProfilePatch) Sensitive() bool { return p.Email != nil || p.Password != nil }

// ErrWrongPassword refuses a change that needs the current password
// without it, or with a wrong one.
var ErrWrongPassword = apperror.New(apperror.Forbidden, "current_password is missing or wrong").
	WithFields(apperror.FieldError{Field: "current_password", Message: "missing or wrong"})

// Validate checks the fields present.
func (p *ProfilePatch) Validate() error {
	var fields []apperror.FieldError
	collect := func(err error) {
		if e, ok := apperror.As(err); ok {
			fields = append(fields, e.Fields...)
		}
	}
	if p.DisplayName != nil {
		v, err := CheckDisplayName(*p.DisplayName)
		collect(err)
		p.DisplayName = &v
	}
	if p.Bio != nil {
		v, err := CheckBio(*p.Bio)
		collect(err)
		p.Bio = &v
	}
	if p.Email != nil {
		v, err := ParseEmail(*p.Email)
		collect(err)
		p.Email = &v
	}
	if p.Password != nil {
		collect(CheckPassword(*p.Password))
	}
	if len(fields) > 0 {
		return apperror.New(apperror.Unprocessable, "profile edit is not valid").WithFields(fields...)
	}
	if p.DisplayName == nil && p.Bio == nil && p.Email == nil && p.Password == nil {
		return apperror.Invalidf("nothing to change: send display_name, bio, email or password")
	}
	return nil
}
