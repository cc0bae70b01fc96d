package e2e

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"pixshare/platform/apitest"
)

// sqlStrings are SQL-shaped strings for every user-controlled field.
var sqlStrings = []string{
	`' OR '1'='1`,
	`' OR 1=1 --`,
	`admin'--`,
	`1; DROP TABLE users; --`,
	`" OR ""="`,
	`') UNION SELECT id, password_hash, email FROM users --`,
	`1' AND (SELECT 1 FROM (SELECT SLEEP(5))x) --`,
	`'; SELECT pg_sleep(5); --`,
	`%`,
	`_`,
	`\`,
	`*/ OR /* 1`,
}

var tagPattern = regexp.MustCompile(`^#?[a-z0-9_]{1,50}$`)

// validTag mirrors the contract's tag definition.
func validTag(s string) bool { return tagPattern.MatchString(strings.ToLower(strings.TrimSpace(s))) }

// words mirrors how search splits a caption or q into words.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func cursorOf(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("1\x00" + strings.Join(parts, "\x00")))
}

// TestAttackInput: mass assignment, huge and malformed JSON, and SQL-shaped
// strings in every user-controlled string.
func TestAttackInput(t *testing.T) {
	_, c := startAttackStack(t)
	alice := register(t, c, "inalice")
	bob := register(t, c, "inbob")
	postID := alice.c.uploadOK(t, photo(t, "small.png"), "original caption", "orig")
	controlID := bob.c.uploadOK(t, photo(t, "small.png"), "harmless sunset", "control")
	alice.c.waitReady(t, postID)
	bob.c.waitReady(t, controlID)

	getPost := func(t *testing.T) map[string]any {
		return jsonOf(t, alice.c.expect(t, "GET", "/v1/posts/"+postID, nil, 200))
	}
	getMe := func(t *testing.T) map[string]any {
		return jsonOf(t, alice.c.expect(t, "GET", "/v1/users/me", nil, 200))
	}
	unchanged := func(t *testing.T, what string, before, after map[string]any) {
		t.Helper()
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("%s changed:\nbefore %v\nafter  %v", what, before, after)
		}
	}
	noComments := func(t *testing.T) {
		t.Helper()
		if items := itemsOf(t, alice.c.expect(t, "GET", "/v1/posts/"+postID+"/comments", nil, 200)); len(items) != 0 {
			t.Fatalf("comments were stored: %v", items)
		}
	}

	// --- 3. Mass assignment ---
	t.Run("mass assignment: PATCH /v1/posts/{id}", func(t *testing.T) {
		before := getPost(t)
		for field, v := range map[string]any{
			"author_id": bob.id, "version": 99, "status": "failed", "deleted_at": time.Now().Format(time.RFC3339),
			"thumbnail_ready": false, "comment_count": 1000, "id": "0190f0f0-0000-7000-8000-000000000000",
			"indexed": true, "images": map[string]string{"original": "https://evil.example/x.jpg"},
			"created_at": "2000-01-01T00:00:00Z", "original_key": "../../user.db", "width": 1, "format": "svg",
		} {
			wantProblem(t, "PATCH post {"+field+"}", alice.c.do(t, "PATCH", "/v1/posts/"+postID, map[string]any{field: v}), 400)
			wantProblem(t, "PATCH post {caption, "+field+"}", alice.c.do(t, "PATCH", "/v1/posts/"+postID,
				map[string]any{"caption": "hacked", field: v}), 400)
		}
		wantProblem(t, "bob takes the post", bob.c.do(t, "PATCH", "/v1/posts/"+postID, map[string]any{"author_id": bob.id}), 400, 403)
		unchanged(t, "the post", before, getPost(t))
	})
	t.Run("mass assignment: PATCH /v1/users/me", func(t *testing.T) {
		before := getMe(t)
		for field, v := range map[string]any{
			"id": bob.id, "username": "inroot", "follower_count": 1000000,
			"following_count": 5, "status": "suspended", "token_version": 0, "password_hash": "x",
			"created_at": "2000-01-01T00:00:00Z", "deleted_at": nil, "role": "admin", "is_admin": true,
		} {
			wantProblem(t, "PATCH me {"+field+"}", alice.c.do(t, "PATCH", "/v1/users/me", map[string]any{field: v}), 400)
			wantProblem(t, "PATCH me {display_name, "+field+"}", alice.c.do(t, "PATCH", "/v1/users/me",
				map[string]any{"display_name": "Hacked", field: v}), 400)
		}
		// The email may change, but a token alone does not do it.
		wantProblem(t, "PATCH me {email} without current_password", alice.c.do(t, "PATCH", "/v1/users/me",
			map[string]any{"email": "root@example.com"}), 403)
		wantProblem(t, "PATCH me {email} with a wrong current_password", alice.c.do(t, "PATCH", "/v1/users/me",
			map[string]any{"email": "root@example.com", "current_password": "not the password"}), 403)
		unchanged(t, "the account", before, getMe(t))
		wantProblem(t, "login as the name alice tried to take", c.do(t, "POST", "/v1/users/login",
			map[string]string{"username": "inroot", "password": attackPassword}), 401)
	})
	t.Run("mass assignment: POST /v1/users/register", func(t *testing.T) {
		for field, v := range map[string]any{
			"id": "0190f0f0-0000-7000-8000-000000000001", "status": "active", "follower_count": 1000000,
			"token_version": -1, "role": "admin", "is_admin": true, "display_name": "x", "password_hash": "x",
		} {
			wantProblem(t, "register with "+field, c.as("").do(t, "POST", "/v1/users/register", map[string]any{
				"username": "inmass", "email": "inmass@example.com", "password": attackPassword, field: v,
			}), 400)
		}
		// Nothing was stored: the name is still free.
		register(t, c, "inmass")
	})
	t.Run("mass assignment: comments", func(t *testing.T) {
		for field, v := range map[string]any{"author_id": bob.id, "post_id": controlID, "id": "x", "created_at": "2000-01-01T00:00:00Z"} {
			wantProblem(t, "comment with "+field, alice.c.do(t, "POST", "/v1/posts/"+postID+"/comments",
				map[string]any{"body": "hello", field: v}), 400)
		}
		noComments(t)
	})

	// --- 5. Huge and malformed JSON ---
	regBody := func(name string) string {
		return `{"username":"` + name + `","email":"` + name + `@example.com","password":"` + attackPassword + `"}`
	}
	targets := []target{
		{"register", "POST", "/v1/users/register", c.as("")},
		{"PATCH post", "PATCH", "/v1/posts/" + postID, alice.c},
		{"comment", "POST", "/v1/posts/" + postID + "/comments", alice.c},
		{"PATCH me", "PATCH", "/v1/users/me", alice.c},
	}
	postBefore, meBefore := getPost(t), getMe(t)

	t.Run("5 MB JSON", func(t *testing.T) {
		huge := `{"username":"inhuge","email":"inhuge@example.com","password":"` + strings.Repeat("A", 5<<20) + `"}`
		for _, tg := range targets {
			wantProblem(t, tg.name+" 5 MB", tg.c.rawJSON(t, tg.method, tg.path, []byte(huge)), 413)
		}
		// Without a Content-Length (chunked): the limit applies as the body
		// streams.
		r := c.as("").stream(t, "POST", "/v1/users/register", io.MultiReader(strings.NewReader(huge)), -1,
			http.Header{"Content-Type": {"application/json"}})
		wantProblem(t, "register 5 MB chunked", r, 413)
	})
	malformed := []struct {
		name string
		body func(target) []byte
	}{
		{"100k nested [", func(target) []byte { return []byte(strings.Repeat("[", 100000)) }},
		{"100k nested {\"a\":", func(target) []byte { return []byte(strings.Repeat(`{"a":`, 100000)) }},
		{"nested arrays as a field", func(target) []byte {
			return []byte(`{"body":` + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + `}`)
		}},
		{"wrong types", func(tg target) []byte {
			switch tg.name {
			case "register":
				return []byte(`{"username":123,"email":["a@example.com"],"password":{"x":1}}`)
			case "PATCH post":
				return []byte(`{"caption":42,"tags":"notalist"}`)
			case "PATCH me":
				return []byte(`{"display_name":true,"bio":[1]}`)
			}
			return []byte(`{"body":["x"]}`)
		}},
		{"trailing garbage", func(tg target) []byte { return []byte(validFor(tg, regBody) + ` garbage`) }},
		{"two objects", func(tg target) []byte { return []byte(validFor(tg, regBody) + validFor(tg, regBody)) }},
		{"truncated", func(tg target) []byte { b := validFor(tg, regBody); return []byte(b[:len(b)-3]) }},
		{"null", func(target) []byte { return []byte(`null`) }},
		{"empty", func(target) []byte { return []byte(``) }},
		{"array", func(target) []byte { return []byte(`[]`) }},
		{"number", func(target) []byte { return []byte(`42`) }},
		{"string", func(target) []byte { return []byte(`"body"`) }},
		// Regression: the bio used to accept a NUL (PostgreSQL text cannot
		// hold one); every text field refuses control characters now.
		{"NUL in a string", func(tg target) []byte {
			return []byte(strings.Replace(validFor(tg, regBody), `in`, `in\u0000`, 1))
		}},
		// Regression: encoding/json keeps the last of duplicated keys, so
		// a body another parser (a WAF, a log pipeline) reads differently
		// was accepted; DecodeJSON refuses duplicated keys now.
		{"duplicated keys", func(tg target) []byte {
			switch tg.name {
			case "register":
				return []byte(`{"username":"indupa","username":"indupb","email":"indup@example.com","password":"` + attackPassword + `"}`)
			case "PATCH post":
				return []byte(`{"caption":"first","caption":"second"}`)
			case "PATCH me":
				return []byte(`{"display_name":"first","display_name":"second"}`)
			}
			return []byte(`{"body":"first","body":"second"}`)
		}},
		// Regression: encoding/json replaces invalid UTF-8 with U+FFFD, so
		// text the client never sent was stored; DecodeJSON refuses it
		// before decoding now.
		{"invalid UTF-8", func(tg target) []byte {
			switch tg.name {
			case "register":
				return []byte("{\"username\":\"inutf\",\"email\":\"inutf@example.com\",\"password\":\"" + attackPassword + "\xff\xfe\"}")
			case "PATCH post":
				return []byte("{\"caption\":\"bad \xff\xfe bytes\"}")
			case "PATCH me":
				return []byte("{\"bio\":\"bad \xc0\xaf bytes\"}")
			}
			return []byte("{\"body\":\"bad \xff\xfe bytes\"}")
		}},
	}
	for _, m := range malformed {
		t.Run("malformed JSON: "+m.name, func(t *testing.T) {
			for _, tg := range targets {
				t.Run(tg.name, func(t *testing.T) {
					r := tg.c.rawJSON(t, tg.method, tg.path, m.body(tg))
					wantProblem(t, tg.name+" "+m.name, r, 400, 413, 415, 422)
				})
			}
		})
	}
	t.Run("not JSON content types", func(t *testing.T) {
		for _, tg := range targets {
			body := []byte(validFor(tg, regBody))
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "text/json", "application/jsonp", "application/json garbage"} {
				r := tg.c.req(t, tg.method, tg.path, body, http.Header{"Content-Type": {ct}})
				wantProblem(t, tg.name+" as "+ct, r, 415)
			}
		}
	})
	t.Run("malformed JSON stored nothing", func(t *testing.T) {
		unchanged(t, "the post", postBefore, getPost(t))
		unchanged(t, "the account", meBefore, getMe(t))
		noComments(t)
		for _, name := range []string{"inhuge", "indupa", "indupb", "inutf", "inmass2"} {
			wantProblem(t, "login as "+name, c.do(t, "POST", "/v1/users/login",
				map[string]string{"username": name, "password": attackPassword}), 401)
		}
	})

	// --- 6. SQL-shaped strings ---
	t.Run("SQL: usernames and logins", func(t *testing.T) {
		for _, s := range sqlStrings {
			wantProblem(t, "register "+s, c.as("").do(t, "POST", "/v1/users/register", map[string]string{
				"username": s, "email": "insql@example.com", "password": attackPassword,
			}), 400, 422)
			wantProblem(t, "register with email "+s, c.as("").do(t, "POST", "/v1/users/register", map[string]string{
				"username": "insqlmail", "email": s, "password": attackPassword,
			}), 400, 422)
			for _, field := range []string{"username", "email"} {
				wantProblem(t, "login "+field+"="+s, c.as("").do(t, "POST", "/v1/users/login", map[string]string{
					field: s, "password": s,
				}), 401, 422)
				wantProblem(t, "login "+field+"="+s+" with alice's password", c.as("").do(t, "POST", "/v1/users/login", map[string]string{
					field: s, "password": attackPassword,
				}), 401, 422)
			}
			wantProblem(t, "login alice with password "+s, c.as("").do(t, "POST", "/v1/users/login", map[string]string{
				"username": "inalice", "password": s,
			}), 401, 422)
		}
	})
	var sqlPosts []string
	t.Run("SQL: captions are stored verbatim", func(t *testing.T) {
		for _, s := range sqlStrings[:4] {
			r := alice.c.upload(t, photo(t, "small.png"), s, "sqlcap")
			wantStatus(t, "upload caption "+s, r, 202)
			p := jsonOf(t, r)
			if p["caption"] != strings.TrimSpace(s) {
				t.Fatalf("caption %q stored as %q", s, p["caption"])
			}
			sqlPosts = append(sqlPosts, p["id"].(string))
		}
		for _, s := range sqlStrings {
			r := alice.c.expect(t, "PATCH", "/v1/posts/"+sqlPosts[0], map[string]string{"caption": s}, 200)
			if got := jsonOf(t, r)["caption"]; got != strings.TrimSpace(s) {
				t.Fatalf("caption %q stored as %q", s, got)
			}
		}
		alice.c.expect(t, "PATCH", "/v1/posts/"+sqlPosts[0], map[string]string{"caption": sqlStrings[0]}, 200)
	})
	t.Run("SQL: tags are refused by the pattern", func(t *testing.T) {
		before := getPost(t)
		for _, s := range sqlStrings {
			if validTag(s) {
				continue
			}
			wantProblem(t, "upload tag "+s, alice.c.upload(t, photo(t, "small.png"), "x", s), 400, 422)
			wantProblem(t, "PATCH tags "+s, alice.c.do(t, "PATCH", "/v1/posts/"+postID, map[string]any{"tags": []string{s}}), 400, 422)
		}
		unchanged(t, "the post", before, getPost(t))
	})
	t.Run("SQL: comment bodies are stored verbatim", func(t *testing.T) {
		var want []string
		for _, s := range sqlStrings {
			r := bob.c.expect(t, "POST", "/v1/posts/"+controlID+"/comments", map[string]string{"body": s}, 201)
			if got := jsonOf(t, r)["body"]; got != strings.TrimSpace(s) {
				t.Fatalf("comment %q stored as %q", s, got)
			}
			want = append(want, strings.TrimSpace(s))
			cid := jsonOf(t, r)["id"].(string)
			bob.c.expect(t, "PATCH", "/v1/posts/"+controlID+"/comments/"+cid, map[string]string{"body": s + " edited"}, 200)
			want[len(want)-1] += " edited"
		}
		var got []string
		for _, it := range itemsOf(t, bob.c.expect(t, "GET", "/v1/posts/"+controlID+"/comments?limit=100", nil, 200)) {
			got = append(got, it["body"].(string))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("comments = %q, want %q", got, want)
		}
	})
	t.Run("SQL: search q, tag and autocomplete", func(t *testing.T) {
		// Wait until the SQL-captioned posts are searchable, so that the
		// checks below see a model that holds them.
		for _, id := range sqlPosts {
			alice.c.waitReady(t, id)
		}
		apitest.Eventually(t, 30*time.Second, "the control post to be found", func() bool {
			return slices.Contains(idsOf(t, c.expect(t, "GET", "/v1/search?tag=control", nil, 200)), controlID)
		})
		for _, s := range sqlStrings {
			for _, cl := range []*hc{c.as(""), bob.c} {
				r := cl.do(t, "GET", "/v1/search?q="+url.QueryEscape(s), nil)
				qw := words(s)
				if len(qw) == 0 {
					wantProblem(t, "search q="+s, r, 400)
				} else {
					wantStatus(t, "search q="+s, r, 200)
					for _, it := range itemsOf(t, r) {
						cw := words(it["caption"].(string))
						for _, w := range qw {
							if !slices.Contains(cw, w) {
								t.Errorf("search q=%q returned %v (caption %q lacks %q)", s, it["id"], it["caption"], w)
							}
						}
					}
				}
				r = cl.do(t, "GET", "/v1/search?tag="+url.QueryEscape(s), nil)
				if validTag(s) {
					wantStatus(t, "search tag="+s, r, 200)
					for _, it := range itemsOf(t, r) {
						t.Errorf("search tag=%q returned %v with tags %v", s, it["id"], it["tags"])
					}
				} else {
					wantProblem(t, "search tag="+s, r, 400)
				}
				r = cl.do(t, "GET", "/v1/search/autocomplete?prefix="+url.QueryEscape(s), nil)
				wantStatus(t, "autocomplete "+s, r, 200, 400)
				for _, it := range itemsOf(t, r) {
					if !strings.HasPrefix(it["tag"].(string), strings.TrimPrefix(s, "#")) {
						t.Errorf("autocomplete %q returned %q", s, it["tag"])
					}
				}
				for _, p := range []string{"limit", "offset"} {
					wantProblem(t, "search "+p+"="+s, cl.do(t, "GET", "/v1/search?tag=control&"+p+"="+url.QueryEscape(s), nil), 400)
				}
			}
		}
	})
	t.Run("SQL: cursors", func(t *testing.T) {
		// A follower, so the follower lists have something to page.
		bob.c.expect(t, "PUT", "/v1/users/"+alice.id+"/follow", nil, 204)
		alice.c.expect(t, "POST", "/v1/posts/"+postID+"/comments", map[string]string{"body": "a real comment"}, 201)
		lists := []struct {
			path string
			c    *hc
		}{
			{"/v1/feed", alice.c},
			{"/v1/posts?author=" + alice.id, bob.c},
			{"/v1/posts/" + postID + "/comments", bob.c},
			{"/v1/users/" + alice.id + "/followers", bob.c},
			{"/v1/users/" + bob.id + "/following", c.as("")},
		}
		for _, l := range lists {
			legit := idsOf(t, l.c.expect(t, "GET", l.path+sep(l.path)+"limit=100", nil, 200))
			for _, s := range sqlStrings {
				wantProblem(t, l.path+" cursor="+s, l.c.do(t, "GET", l.path+sep(l.path)+"cursor="+url.QueryEscape(s), nil), 400)
				wantProblem(t, l.path+" limit="+s, l.c.do(t, "GET", l.path+sep(l.path)+"limit="+url.QueryEscape(s), nil), 400)
				// A well-formed cursor carrying the SQL: a normal page or a
				// 400, and never a row that the plain list lacks.
				for _, cur := range []string{cursorOf(s), cursorOf(s, s), cursorOf("z" + s)} {
					r := l.c.do(t, "GET", l.path+sep(l.path)+"cursor="+cur, nil)
					wantStatus(t, l.path+" crafted cursor "+s, r, 200, 400)
					if r.Status == 200 {
						for _, id := range idsOf(t, r) {
							if !slices.Contains(legit, id) {
								t.Errorf("%s with a crafted cursor (%q) returned %s, which the list does not hold", l.path, s, id)
							}
						}
					} else {
						checkShape(t, l.path, r)
					}
				}
			}
		}
	})
	t.Run("SQL: path ids", func(t *testing.T) {
		for _, s := range sqlStrings {
			id := url.PathEscape(s)
			for _, rt := range []struct {
				method, path string
				body         any
				want         []int
			}{
				{"GET", "/v1/posts/" + id, nil, []int{400, 404}},
				{"PATCH", "/v1/posts/" + id, map[string]string{"caption": "x"}, []int{400, 404}},
				{"DELETE", "/v1/posts/" + id, nil, []int{400, 404}},
				{"GET", "/v1/posts/" + id + "/image", nil, []int{400, 404}},
				{"GET", "/v1/posts/" + id + "/comments", nil, []int{400, 404}},
				{"POST", "/v1/posts/" + id + "/comments", map[string]string{"body": "x"}, []int{400, 404}},
				{"PATCH", "/v1/posts/" + postID + "/comments/" + id, map[string]string{"body": "x"}, []int{400, 404}},
				{"DELETE", "/v1/posts/" + postID + "/comments/" + id, nil, []int{400, 404}},
				{"GET", "/v1/users/" + id, nil, []int{400, 404}},
				{"PUT", "/v1/users/" + id + "/follow", nil, []int{400, 404, 422}},
				{"PUT", "/v1/users/" + id + "/block", nil, []int{400, 404, 422}},
				{"GET", "/v1/users/" + id + "/followers", nil, []int{400, 404}},
			} {
				r := alice.c.do(t, rt.method, rt.path, rt.body)
				wantProblem(t, rt.method+" "+rt.path, r, rt.want...)
			}
			r := bob.c.do(t, "GET", "/v1/posts?author="+url.QueryEscape(s), nil)
			wantStatus(t, "posts?author="+s, r, 200, 400)
			if r.Status == 200 && len(itemsOf(t, r)) != 0 {
				t.Errorf("posts?author=%q returned %s", s, r.Body)
			}
			r = c.as("").do(t, "GET", "/v1/search?tag=control&author="+url.QueryEscape(s), nil)
			wantStatus(t, "search with an extra author parameter", r, 200, 400)
		}
	})
	t.Run("SQL: nothing appeared that should not", func(t *testing.T) {
		for _, name := range []string{"admin", "root", "insql", "insqlmail"} {
			wantProblem(t, "login as "+name, c.do(t, "POST", "/v1/users/login",
				map[string]string{"username": name, "password": attackPassword}), 401)
		}
		got := idsOf(t, alice.c.expect(t, "GET", "/v1/posts?author="+alice.id+"&limit=100", nil, 200))
		want := append([]string{postID}, sqlPosts...)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("alice's posts = %v, want %v", got, want)
		}
		if ids := idsOf(t, c.expect(t, "GET", "/v1/search?tag=control", nil, 200)); !slices.Equal(ids, []string{controlID}) {
			t.Errorf("search tag=control = %v, want only %s", ids, controlID)
		}
		if ids := idsOf(t, c.expect(t, "GET", "/v1/search?tag=sqlcap", nil, 200)); len(ids) > len(sqlPosts) {
			t.Errorf("search tag=sqlcap = %v, more than the %d posts", ids, len(sqlPosts))
		}
		c.expect(t, "GET", "/v1/users/"+alice.id, nil, 200)
		register(t, c, "inafter") // the users table is intact
	})

	stillReady(t, c)
}

// target is a JSON route the malformed bodies are sent to.
type target struct {
	name, method, path string
	c                  *hc
}

// validFor is a well-formed body for the target.
func validFor(tg target, regBody func(string) string) string {
	switch tg.name {
	case "register":
		return regBody("inmass2")
	case "PATCH post":
		return `{"caption":"fine"}`
	case "PATCH me":
		return `{"bio":"fine"}`
	}
	return `{"body":"fine"}`
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}
