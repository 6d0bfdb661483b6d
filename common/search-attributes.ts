import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Registered on the dev server at start (lab/devserver.ts); operators filter the UI by them. */
export const ClusterName = defineSearchAttributeKey('ClusterName', SearchAttributeType.KEYWORD);
export const Operation = defineSearchAttributeKey('Operation', SearchAttributeType.KEYWORD);
export const TargetHosts = defineSearchAttributeKey('TargetHosts', SearchAttributeType.KEYWORD_LIST);
export const Phase = defineSearchAttributeKey('Phase', SearchAttributeType.KEYWORD);

/** The same four, in the `name=Type` form that `temporal server start-dev --search-attribute` takes. */
export const searchAttributeRegistrations = [
  'ClusterName=Keyword',
  'Operation=Keyword',
  'TargetHosts=KeywordList',
  'Phase=Keyword',
];
