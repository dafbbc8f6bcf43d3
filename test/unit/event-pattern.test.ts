import { describe, expect, it } from 'vitest';
import { EventPatternError, matchesEventPattern } from '#local/event-pattern.ts';

// The EC2 state-change event that the EventBridge documentation uses throughout.
const ec2 = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
};
const withDetail = (detail: Record<string, unknown>) => ({ ...ec2, detail });

/** [description, pattern, event, expected] — patterns from the EventBridge user guide. */
const TABLE: [string, unknown, unknown, boolean][] = [
  ['exact value', { source: ['aws.ec2'] }, ec2, true],
  ['exact value, other source', { source: ['aws.s3'] }, ec2, false],
  ['values in a list are ORed', { source: ['aws.s3', 'aws.ec2'] }, ec2, true],
  ['keys are ANDed', { source: ['aws.ec2'], 'detail-type': ['Nope'] }, ec2, false],
  ['nested field', { detail: { state: ['pending'] } }, ec2, true],
  ['arrays in events: any element', { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'] }, ec2, true],
  ['case-sensitive exact match', { source: ['AWS.EC2'] }, ec2, false],
  ['number exact', { detail: { n: [300] } }, withDetail({ n: 3.0e2 }), true],
  ['null matches null', { detail: { n: [null] } }, withDetail({ n: null }), true],
  ['null does not match a missing field', { detail: { n: [null] } }, withDetail({}), false],
  ['empty string', { detail: { n: [''] } }, withDetail({ n: '' }), true],
  ['prefix', { time: [{ prefix: '2015-11-11' }] }, ec2, true],
  ['prefix does not match numbers', { detail: { n: [{ prefix: '1' }] } }, withDetail({ n: 12 }), false],
  [
    'prefix ignoring case',
    { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    withDetail({ service: 'eventbridge' }),
    true,
  ],
  ['suffix', { detail: { FileName: [{ suffix: '.png' }] } }, withDetail({ FileName: 'cat.png' }), true],
  ['suffix, other extension', { detail: { FileName: [{ suffix: '.png' }] } }, withDetail({ FileName: 'cat.jpg' }), false],
  [
    'suffix ignoring case',
    { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    withDetail({ FileName: 'CAT.PNG' }),
    true,
  ],
  ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'PENDING' }] } }, ec2, true],
  ['anything-but string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2, true],
  ['anything-but string, excluded', { detail: { state: [{ 'anything-but': 'pending' }] } }, ec2, false],
  ['anything-but number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 124 }), true],
  ['anything-but list of strings', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, ec2, true],
  [
    'anything-but list of numbers, excluded',
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    withDetail({ 'x-limit': 200 }),
    false,
  ],
  ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, ec2, true],
  ['anything-but prefix, excluded', { detail: { state: [{ 'anything-but': { prefix: 'pend' } }] } }, ec2, false],
  ['anything-but suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, withDetail({ FileName: 'a.png' }), false],
  ['anything-but ignore case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'PENDING' } }] } }, ec2, false],
  [
    'anything-but wildcard',
    { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    withDetail({ FilePath: '/usr/lib/x' }),
    false,
  ],
  [
    'anything-but wildcard, other path',
    { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    withDetail({ FilePath: '/usr/bin/x' }),
    true,
  ],
  ['anything-but needs the field', { detail: { other: [{ 'anything-but': 'x' }] } }, ec2, false],
  ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, withDetail({ 'c-count': 5 }), true],
  ['numeric range, outside', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, withDetail({ 'c-count': 0 }), false],
  ['numeric equals', { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, withDetail({ 'x-limit': 301.8 }), true],
  ['numeric ignores strings', { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, withDetail({ 'c-count': '5' }), false],
  ['cidr IPv4', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: '10.0.0.255' }), true],
  ['cidr IPv4, outside', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: '10.0.1.1' }), false],
  ['cidr IPv6', { detail: { ip: [{ cidr: '2001:db8::/32' }] } }, withDetail({ ip: '2001:db8:85a3::8a2e:370:7334' }), true],
  ['cidr IPv6, outside', { detail: { ip: [{ cidr: '2001:db8::/32' }] } }, withDetail({ ip: '2001:db9::1' }), false],
  ['exists true', { detail: { state: [{ exists: true }] } }, ec2, true],
  ['exists true, missing', { detail: { 'c-count': [{ exists: true }] } }, ec2, false],
  ['exists false, missing', { detail: { 'c-count': [{ exists: false }] } }, ec2, true],
  [
    'exists false on a non-leaf node (documented)',
    { detail: { 'c-count': [{ exists: false }] } },
    withDetail({ 'c-count': { c1: 100 } }),
    true,
  ],
  [
    'exists true on a non-leaf node (documented)',
    { detail: { 'c-count': [{ exists: true }] } },
    withDetail({ 'c-count': { c1: 100 } }),
    false,
  ],
  [
    'wildcard',
    { detail: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] } },
    withDetail({ EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/b' }),
    true,
  ],
  [
    'wildcard, no match',
    { detail: { EventBusArn: [{ wildcard: 'arn:aws:events:us-west-2:*' }] } },
    withDetail({ EventBusArn: 'arn:aws:events:us-east-1:1:event-bus/b' }),
    false,
  ],
  ['wildcard escaped star', { detail: { s: [{ wildcard: 'a\\*b' }] } }, withDetail({ s: 'a*b' }), true],
  ['wildcard escaped star is literal', { detail: { s: [{ wildcard: 'a\\*b' }] } }, withDetail({ s: 'axxb' }), false],
  ['$or at top level', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['pending'] } }] }, ec2, true],
  ['$or nested', { detail: { $or: [{ state: ['running'] }, { 'instance-id': [{ prefix: 'i-' }] }] } }, ec2, true],
  ['$or, none match', { $or: [{ source: ['aws.s3'] }, { region: ['eu-west-1'] }] }, ec2, false],
  ['arrays of objects are flattened', { detail: { items: { id: ['b'] } } }, withDetail({ items: [{ id: 'a' }, { id: 'b' }] }), true],
  ['nested pattern on a missing object', { detail: { nope: { x: ['1'] } } }, ec2, false],
];

describe('Function: matchesEventPattern', () => {
  it.each(TABLE)('%s', (_, pattern, event, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  it('accepts the pattern as JSON text, as a synthesized template holds it', () => {
    expect(matchesEventPattern(JSON.stringify({ source: ['aws.ec2'] }), ec2)).toBe(true);
  });

  const INVALID: [string, unknown, RegExp][] = [
    ['empty pattern', {}, /non-empty JSON object/],
    ['leaf that is not a list', { source: 'aws.ec2' }, /list of match values/],
    ['empty list', { source: [] }, /must not be empty/],
    ['unknown operator', { source: [{ contains: 'ec2' }] }, /unsupported operator "contains"/],
    ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/],
    ['bad numeric', { n: [{ numeric: ['>>', 1] }] }, /unknown numeric operator/],
    ['numeric with two lower bounds', { n: [{ numeric: ['>', 1, '>', 2] }] }, /one lower and one upper/],
    ['mixed anything-but list', { n: [{ 'anything-but': ['a', 1] }] }, /only strings or only numbers/],
    ['consecutive wildcards', { n: [{ wildcard: 'a**b' }] }, /consecutive/],
    ['$or with one branch', { $or: [{ a: ['1'] }] }, /at least two/],
    ['bad cidr', { ip: [{ cidr: '10.0.0.0/33' }] }, /not a CIDR block/],
    ['exists not boolean', { a: [{ exists: 'yes' }] }, /true or false/],
  ];
  it.each(INVALID)('rejects %s', (_, pattern, message) => {
    expect(() => matchesEventPattern(pattern, ec2)).toThrow(EventPatternError);
    expect(() => matchesEventPattern(pattern, ec2)).toThrow(message);
  });
});
