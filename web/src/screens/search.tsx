import { useEffect, useRef, useState } from 'preact/hooks';
import { autocomplete, search, searchUsers } from '../api/endpoints';
import { isAbort } from '../api/http';
import type { PostSummary, Profile, TagCount } from '../api/types';
import { Avatar, PersonName } from '../components/people';
import { Grid, Tile, altOf } from '../components/posts';
import { ErrorNote, Loading, count } from '../components/ui';
import { useAsync, useTitle } from '../hooks';
import { navigate } from '../router';

/** "#sunset sea #bay" → tags [sunset, bay], words "sea". */
export function parseQuery(q: string): { tags: string[]; words: string } {
  const tags: string[] = [];
  const words: string[] = [];
  for (const tok of q.split(/\s+/).filter(Boolean)) {
    if (tok.startsWith('#') && tok.length > 1) tags.push(tok.slice(1).toLowerCase());
    else if (tok !== '#') words.push(tok);
  }
  return { tags, words: words.join(' ') };
}

const PAGE = 24;

export function SearchPage({ q }: { q: string }) {
  useTitle(q ? `Search: ${q}` : 'Search');
  return (
    <section>
      <h1>Search</h1>
      <SearchBox initial={q} />
      {q.trim() ? <Results q={q.trim()} /> : <p class="muted">Search for #tags, words in captions, or people by username.</p>}
    </section>
  );
}

/**
 * The search field, a combobox: as you type, tags starting with the last
 * word are offered (ARIA 1.2 combobox with a listbox popup).
 */
function SearchBox({ initial }: { initial: string }) {
  const [value, setValue] = useState(initial);
  const [options, setOptions] = useState<TagCount[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => setValue(initial), [initial]);

  const last = value.endsWith(' ') ? '' : (value.split(/\s+/).pop() ?? '');
  const prefix = last.replace(/^#/, '').toLowerCase();

  useEffect(() => {
    if (!prefix || !/^[a-z0-9_]+$/.test(prefix)) {
      setOptions([]);
      return undefined;
    }
    const ctl = new AbortController();
    const t = setTimeout(() => {
      autocomplete(prefix, 8, ctl.signal).then(
        (r) => {
          setOptions(r.items ?? []);
          setActive(-1);
        },
        (e) => {
          if (!isAbort(e)) setOptions([]);
        },
      );
    }, 150);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [prefix]);

  const shown = open && options.length > 0;

  function pick(tag: string) {
    const words = value.split(/\s+/).filter(Boolean);
    words.pop();
    words.push(`#${tag}`);
    const next = words.join(' ');
    setValue(next);
    setOpen(false);
    setOptions([]);
    navigate(`/search?q=${encodeURIComponent(next)}`);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'ArrowDown' && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === 'ArrowUp' && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a <= 0 ? options.length - 1 : a - 1));
    } else if (e.key === 'Enter' && shown && active >= 0) {
      e.preventDefault();
      pick(options[active].tag);
    } else if (e.key === 'Escape') {
      setOpen(false);
      setActive(-1);
    }
  }

  function submit(e: Event) {
    e.preventDefault();
    setOpen(false);
    navigate(`/search?q=${encodeURIComponent(value.trim())}`);
  }

  return (
    <form role="search" class="search-form" onSubmit={submit}>
      <div class="combo">
        <label for="search-q">Search</label>
        <input
          ref={input}
          id="search-q"
          name="q"
          type="text"
          enterKeyHint="search"
          value={value}
          autoComplete="off"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={shown}
          aria-controls="search-suggestions"
          aria-activedescendant={shown && active >= 0 ? `search-opt-${active}` : undefined}
          aria-describedby="search-hint"
          onInput={(e) => {
            setValue(e.currentTarget.value);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onFocus={() => setOpen(true)}
        />
        <ul id="search-suggestions" role="listbox" aria-label="Tag suggestions" class={shown ? 'suggestions' : 'suggestions hidden'}>
          {shown
            ? options.map((o, i) => (
                <li
                  key={o.tag}
                  id={`search-opt-${i}`}
                  role="option"
                  aria-selected={i === active}
                  class={i === active ? 'active' : ''}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => pick(o.tag)}
                >
                  #{o.tag} <span class="muted">{count(o.count, 'post')}</span>
                </li>
              ))
            : null}
        </ul>
        <p id="search-hint" class="hint">
          Tags start with #. Use the arrow keys to choose a suggested tag.
        </p>
      </div>
      <button type="submit">Search</button>
      <p class="visually-hidden" role="status">
        {shown ? `${count(options.length, 'tag')} suggested` : ''}
      </p>
    </form>
  );
}

function Results({ q }: { q: string }) {
  const { tags, words } = parseQuery(q);
  const person = words.split(' ')[0]?.replace(/^@/, '') ?? '';
  return (
    <>
      {person && !tags.length ? <People q={person} /> : null}
      <Posts tags={tags} words={words} />
    </>
  );
}

function People({ q }: { q: string }) {
  const people = useAsync(() => searchUsers(q.toLowerCase(), { limit: 10 }), [q]);
  const items: Profile[] = people.data?.items ?? [];
  return (
    <section aria-labelledby="people-title">
      <h2 id="people-title">People</h2>
      {people.loading ? (
        <Loading what="Looking for people" />
      ) : people.error ? (
        <ErrorNote error={people.error} />
      ) : items.length ? (
        <ul class="people">
          {items.map((u) => (
            <li key={u.id}>
              <a class="author" href={`/u/${encodeURIComponent(u.id)}`}>
                <Avatar user={u} />
                <span class="author-name">
                  <PersonName person={u} />
                </span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">Nobody with a username starting with “{q}”.</p>
      )}
    </section>
  );
}

function Posts({ tags, words }: { tags: string[]; words: string }) {
  const [items, setItems] = useState<PostSummary[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(false);
  const key = JSON.stringify([tags, words]);
  const gen = useRef(0);

  function load(offset: number) {
    const g = gen.current;
    setLoading(true);
    setError(undefined);
    search(tags, words, PAGE, offset).then(
      (r) => {
        if (g !== gen.current) return;
        setItems((old) => (offset === 0 ? r.items : old.concat(r.items)));
        setTotal(r.total);
        setLoading(false);
      },
      (e) => {
        if (g !== gen.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }

  useEffect(() => {
    gen.current++;
    setItems([]);
    setTotal(null);
    load(0);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return (
    <section aria-labelledby="posts-title">
      <h2 id="posts-title">Posts{total !== null ? ` (${total.toLocaleString('en')})` : ''}</h2>
      {items.length ? (
        <Grid label="Matching posts">
          {items.map((p) => (
            <Tile key={p.id} id={p.id} thumb={p.thumbnail_url} alt={altOf(p)} />
          ))}
        </Grid>
      ) : total === 0 ? (
        <p class="muted">No posts match.</p>
      ) : null}
      {loading ? <Loading what="Searching" /> : null}
      <ErrorNote error={error} />
      {!loading && total !== null && items.length < total && items.length < 10000 ? (
        <button type="button" class="secondary" onClick={() => load(items.length)}>
          Show more posts
        </button>
      ) : null}
    </section>
  );
}
