// Package seed fills a running Pixshare with the data a load run reads,
// through the public API only: users with unique names per run, follows
// among them, posts (uploaded with an Idempotency-Key) and comments. It then
// waits until the posts are ready, so image reads do not meet thumbnails
// still being made.
package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // pictures the service accepts
	_ "image/jpeg"
	_ "image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	_ "golang.org/x/image/webp"
	"golang.org/x/sync/errgroup"

	"pixshare/tools/load/internal/api"
)

// Tags is the vocabulary of seeded tags. Every third post carries both of
// PairTags, so a two-tag search has matches.
var Tags = []string{"sunset", "sea", "city", "food", "travel", "portrait", "nature", "night", "street", "mountain", "beach", "coffee"}

// PairTags are the two tags of the two-tag search reference.
var PairTags = [2]string{"sunset", "sea"}

// Config says how much to seed.
type Config struct {
	// RunID makes names and idempotency keys unique per run ([a-z0-9]).
	RunID        string
	Users        int
	PostsPerUser int
	// Follows is how many others each user follows.
	Follows int
	// CommentsPerPost is how many comments each post gets.
	CommentsPerPost int
	Images          [][]byte
	// Concurrency bounds the requests in flight while seeding.
	Concurrency  int
	ReadyTimeout time.Duration
	// Logf reports progress.
	Logf func(format string, args ...any)
}

// Post is a seeded post.
type Post struct {
	ID     string
	Author int // index into Data.Users
	Tags   []string
	Status string
}

// Data is what was seeded.
type Data struct {
	Users    []api.User
	Posts    []Post
	Comments int
	Images   [][]byte
	Took     time.Duration
}

// Ready returns the ids of the posts that became ready.
func (d Data) Ready() []string {
	var out []string
	for _, p := range d.Posts {
		if p.Status == "ready" {
			out = append(out, p.ID)
		}
	}
	return out
}

// Count returns how many posts ended in status.
func (d Data) Count(status string) int {
	n := 0
	for _, p := range d.Posts {
		if p.Status == status {
			n++
		}
	}
	return n
}

// UserName is the name of the i-th user of a run.
func UserName(runID string, i int) string { return fmt.Sprintf("ld%s_%03d", runID, i) }

// PostTags are the tags of the i-th seeded post.
func PostTags(i int) []string {
	tags := []string{Tags[i%len(Tags)], Tags[(i*5+3)%len(Tags)]}
	if i%3 == 0 {
		tags = append(tags, PairTags[0], PairTags[1])
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// Seed registers the users, makes the follows, posts and comments, and
// waits for the posts to be ready.
func Seed(ctx context.Context, c *api.Client, cfg Config) (Data, error) {
	start := time.Now()
	if cfg.Users < 1 {
		return Data{}, errors.New("seed: need at least one user")
	}
	if len(cfg.Images) == 0 {
		return Data{}, errors.New("seed: no pictures to upload")
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	d := Data{Users: make([]api.User, cfg.Users), Images: cfg.Images}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrency))
	for i := range cfg.Users {
		g.Go(func() error {
			u, err := c.Register(gctx, UserName(cfg.RunID, i))
			d.Users[i] = u
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return d, fmt.Errorf("seed users: %w", err)
	}
	logf("seed: %d users registered and logged in", cfg.Users)

	follows := min(cfg.Follows, cfg.Users-1)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrency))
	for i := range cfg.Users {
		for k := 1; k <= follows; k++ {
			g.Go(func() error {
				return c.Follow(gctx, d.Users[i].Token, d.Users[(i+k)%cfg.Users].ID)
			})
		}
	}
	if err := g.Wait(); err != nil {
		return d, fmt.Errorf("seed follows: %w", err)
	}
	logf("seed: %d follows", cfg.Users*follows)

	n := cfg.Users * cfg.PostsPerUser
	d.Posts = make([]Post, n)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrency))
	for i := range n {
		g.Go(func() error {
			author := i % cfg.Users
			tags := PostTags(i)
			key := fmt.Sprintf("ld-%s-seed-%d", cfg.RunID, i)
			caption := fmt.Sprintf("Seeded picture %d of run %s, #%s", i, cfg.RunID, strings.Join(tags, " #"))
			p, err := c.Upload(gctx, d.Users[author].Token, cfg.Images[i%len(cfg.Images)], caption, tags, key)
			d.Posts[i] = Post{ID: p.ID, Author: author, Tags: tags, Status: p.Status}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return d, fmt.Errorf("seed posts: %w", err)
	}
	logf("seed: %d posts uploaded", n)

	var mu sync.Mutex
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrency))
	for i, p := range d.Posts {
		for k := 1; k <= cfg.CommentsPerPost; k++ {
			g.Go(func() error {
				who := d.Users[(p.Author+k)%cfg.Users]
				if err := c.Comment(gctx, who.Token, p.ID, fmt.Sprintf("Comment %d on picture %d: lovely light.", k, i)); err != nil {
					return err
				}
				mu.Lock()
				d.Comments++
				mu.Unlock()
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return d, fmt.Errorf("seed comments: %w", err)
	}
	logf("seed: %d comments", d.Comments)

	if err := waitReady(ctx, c, &d, cfg.ReadyTimeout); err != nil {
		return d, err
	}
	d.Took = time.Since(start)
	logf("seed: %d posts ready, %d failed, %d still processing after %s", d.Count("ready"), d.Count("failed"), d.Count("processing"), d.Took.Round(time.Millisecond))
	if len(d.Ready()) == 0 {
		return d, errors.New("seed: no post became ready (is the thumbnailer running?)")
	}
	return d, nil
}

// waitReady polls the posts until each is ready or failed, or timeout.
func waitReady(ctx context.Context, c *api.Client, d *Data, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pending := 0
		for i := range d.Posts {
			p := &d.Posts[i]
			if p.Status == "ready" || p.Status == "failed" {
				continue
			}
			got, err := c.GetPost(ctx, d.Users[p.Author].Token, p.ID)
			if err != nil {
				return fmt.Errorf("seed: read post %s: %w", p.ID, err)
			}
			p.Status = got.Status
			if got.Status != "ready" && got.Status != "failed" {
				pending++
			}
		}
		if pending == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("seed: wait for posts: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// DefaultMaxPixels is the post service's default UPLOAD_MAX_PIXELS.
const DefaultMaxPixels = 40_000_000

// LoadImages reads the pictures of dir that the service would accept and
// the thumbnailer could finish: ones that decode completely with at most
// maxPixels. Fixtures made to be refused (corrupt, pixel bombs, text) are
// left out.
func LoadImages(dir string, maxPixels int) ([][]byte, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read pictures: %w", err)
	}
	var out [][]byte
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("read picture: %w", err)
		}
		if Acceptable(b, maxPixels) {
			out = append(out, b)
			names = append(names, e.Name())
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("no usable picture in %s", dir)
	}
	return out, names, nil
}

// Acceptable reports whether b is a whole picture of at most maxPixels.
func Acceptable(b []byte, maxPixels int) bool {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width*cfg.Height > maxPixels || cfg.Width*cfg.Height == 0 {
		return false
	}
	_, _, err = image.Decode(bytes.NewReader(b))
	return err == nil
}

// Rand returns the deterministic random source of a run.
func Rand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15)) }
