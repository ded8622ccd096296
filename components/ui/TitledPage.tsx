import type { ComponentType, ReactElement, ReactNode } from 'react';
import { PageHeader } from './Card';

/**
 * The route whose whole page is a header over one feature component (app/keys, app/status,
 * app/settings): `export default titledPage('Keys', 'What this page is for.', KeysManager)`.
 * Renders exactly `<PageHeader title subtitle />` followed by `<Body />`.
 */
export function titledPage(title: string, subtitle: ReactNode, Body: ComponentType): () => ReactElement {
  function TitledPage() {
    return (
      <>
        <PageHeader title={title} subtitle={subtitle} />
        <Body />
      </>
    );
  }
  TitledPage.displayName = `${title}Page`;
  return TitledPage;
}
