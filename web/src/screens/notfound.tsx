import { useTitle } from '../hooks';

export function NotFound() {
  useTitle('Not found');
  return (
    <section class="narrow">
      <h1>There's nothing here</h1>
      <p>
        This page doesn't exist. Go to the <a href="/">home page</a> or <a href="/search">search</a> for pictures.
      </p>
    </section>
  );
}
