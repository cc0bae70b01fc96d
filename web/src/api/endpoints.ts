// Every route the client uses, one function each, as the OpenAPI documents
// describe them.
import { api, sendWithProgress } from './http';
import type { AuthorSummary, Comment, LoginResponse, Me, Page, Post, Profile, SearchResult, TagCount } from './types';

const enc = encodeURIComponent;

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

// Accounts

export const register = (username: string, email: string, password: string) =>
  api<Me>('POST', '/v1/users/register', { json: { username, email, password } });

/** Signs in with a username, or an email when login holds an '@'. */
export const login = (login: string, password: string) =>
  api<LoginResponse>('POST', '/v1/users/login', {
    json: login.includes('@') ? { email: login, password } : { username: login, password },
  });

export const logout = () => api<void>('POST', '/v1/users/logout');
export const getMe = () => api<Me>('GET', '/v1/users/me');

export interface MePatch {
  display_name?: string;
  bio?: string;
  password?: string;
  current_password?: string;
}
export const updateMe = (patch: MePatch) =>
  api<Me>('PATCH', '/v1/users/me', { json: patch, passwordCheck: patch.current_password !== undefined });
export const deleteMe = (currentPassword: string) =>
  api<void>('DELETE', '/v1/users/me', { json: { current_password: currentPassword }, passwordCheck: true });

export const setAvatar = (image: File) => {
  const form = new FormData();
  form.append('image', image);
  return api<Me>('PUT', '/v1/users/me/avatar', { body: form });
};
export const removeAvatar = () => api<void>('DELETE', '/v1/users/me/avatar');

// People

export const getUser = (id: string) => api<Profile>('GET', `/v1/users/${enc(id)}`);
export const lookupUser = (username: string) => api<Profile>('GET', '/v1/users/lookup', { query: { username } });
export const searchUsers = (q: string, p: PageQuery = {}) => api<Page<Profile>>('GET', '/v1/users', { query: { q, ...p } });
export const follow = (id: string) => api<void>('PUT', `/v1/users/${enc(id)}/follow`);
export const unfollow = (id: string) => api<void>('DELETE', `/v1/users/${enc(id)}/follow`);
export const block = (id: string) => api<void>('PUT', `/v1/users/${enc(id)}/block`);
export const unblock = (id: string) => api<void>('DELETE', `/v1/users/${enc(id)}/block`);
export const myBlocks = (p: PageQuery = {}) => api<Page<AuthorSummary>>('GET', '/v1/users/me/blocks', { query: { ...p } });

// Posts

export interface NewPost {
  image: File;
  caption: string;
  /** Comma-separated, as the form has them. */
  tags: string;
  altText: string;
}

/** Uploads a picture; onProgress gets the fraction of the body sent. */
export const uploadPost = (p: NewPost, idempotencyKey: string, onProgress: (f: number) => void, signal?: AbortSignal) => {
  const form = new FormData();
  form.append('caption', p.caption);
  form.append('tags', p.tags);
  form.append('alt_text', p.altText);
  // The image last: the fields arrive before the bytes they describe.
  form.append('image', p.image);
  return sendWithProgress<Post>('POST', '/v1/posts', form, onProgress, { 'Idempotency-Key': idempotencyKey }, signal);
};

/**
 * Reads a post; onHeaders sees the answer's headers (Retry-After while
 * processing, Preference-Applied when it waited). With waitSeconds, a post
 * still processing is answered once its processing moves on, or after that
 * long ("Prefer: wait").
 */
export const getPost = (id: string, signal?: AbortSignal, onHeaders?: (h: Headers) => void, waitSeconds?: number) =>
  api<Post>('GET', `/v1/posts/${enc(id)}`, {
    signal,
    onHeaders,
    headers: waitSeconds ? { Prefer: `wait=${waitSeconds}` } : undefined,
  });
export const deletePost = (id: string) => api<void>('DELETE', `/v1/posts/${enc(id)}`);
export const postsByAuthor = (author: string, p: PageQuery = {}) => api<Page<Post>>('GET', '/v1/posts', { query: { author, ...p } });
export const feed = (p: PageQuery = {}) => api<Page<Post>>('GET', '/v1/feed', { query: { ...p } });
export const publicTimeline = (p: PageQuery = {}) => api<Page<Post>>('GET', '/v1/timelines/public', { query: { ...p } });
export const tagTimeline = (tag: string, p: PageQuery = {}) =>
  api<Page<Post>>('GET', `/v1/timelines/tag/${enc(tag)}`, { query: { ...p } });

export const like = (id: string) => api<void>('PUT', `/v1/posts/${enc(id)}/like`);
export const unlike = (id: string) => api<void>('DELETE', `/v1/posts/${enc(id)}/like`);

// Comments

export const comments = (postId: string, p: PageQuery = {}) =>
  api<Page<Comment>>('GET', `/v1/posts/${enc(postId)}/comments`, { query: { ...p } });
export const addComment = (postId: string, body: string) =>
  api<Comment>('POST', `/v1/posts/${enc(postId)}/comments`, { json: { body } });
export const editComment = (postId: string, id: string, body: string) =>
  api<Comment>('PATCH', `/v1/posts/${enc(postId)}/comments/${enc(id)}`, { json: { body } });
export const deleteComment = (postId: string, id: string) =>
  api<void>('DELETE', `/v1/posts/${enc(postId)}/comments/${enc(id)}`);

// Search

export const search = (tags: string[], q: string, limit: number, offset: number) =>
  api<SearchResult>('GET', '/v1/search', { query: { tag: tags, q, limit, offset } });
export const autocomplete = (prefix: string, limit = 8, signal?: AbortSignal) =>
  api<{ items: TagCount[] }>('GET', '/v1/search/autocomplete', { query: { prefix, limit }, signal });
