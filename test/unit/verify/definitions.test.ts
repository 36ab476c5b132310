import { describe, expect, it } from 'vitest';
import { definitionDifference, normalizeDefinition } from '../../../src/verify/definitions.js';

const rides = (options: { wait?: string; keys?: string[]; table?: string } = {}): string =>
  [
    'CREATE TABLE `rides` (',
    '  `id` int(11) NOT NULL AUTO_INCREMENT,',
    `  \`wait\` int(11) NOT NULL DEFAULT ${options.wait ?? '5'},`,
    ['  PRIMARY KEY (`id`)', ...(options.keys ?? [])].join(',\n'),
    `) ENGINE=InnoDB${options.table ?? ''} DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  ].join('\n');

describe('normalizeDefinition', () => {
  it('drops the AUTO_INCREMENT counter and nothing else', () => {
    expect(normalizeDefinition(rides({ table: ' AUTO_INCREMENT=1207' }))).toBe(rides());
    // The column attribute stays.
    expect(normalizeDefinition(rides())).toContain('NOT NULL AUTO_INCREMENT,');
  });
});

describe('definitionDifference', () => {
  it('is undefined for the same definition', () => {
    expect(definitionDifference(rides(), rides())).toBeUndefined();
  });

  it('names the column line whose default differs, on each side', () => {
    expect(definitionDifference(rides(), rides({ wait: '7' }))).toEqual({
      source: ['`wait` int(11) NOT NULL DEFAULT 5'],
      replica: ['`wait` int(11) NOT NULL DEFAULT 7'],
    });
  });

  it('names a key only one side has, trailing commas aside', () => {
    expect(definitionDifference(rides(), rides({ keys: ['  KEY `by_wait` (`wait`)'] }))).toEqual({
      source: [],
      replica: ['KEY `by_wait` (`wait`)'],
    });
  });

  it('names table options and partitioning', () => {
    const partitioned = `${rides()}\n PARTITION BY HASH (\`id\`)\nPARTITIONS 4`;
    expect(definitionDifference(partitioned, rides())).toEqual({ source: ['PARTITION BY HASH (`id`)', 'PARTITIONS 4'], replica: [] });
    expect(definitionDifference(rides(), rides({ table: ' ROW_FORMAT=COMPRESSED' }))).toEqual({
      source: [') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci'],
      replica: [') ENGINE=InnoDB ROW_FORMAT=COMPRESSED DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci'],
    });
  });

  it('gives both whole definitions when only the order of their lines differs', () => {
    const a = rides({ keys: ['  KEY `x` (`wait`)', '  KEY `y` (`id`)'] });
    const b = rides({ keys: ['  KEY `y` (`id`)', '  KEY `x` (`wait`)'] });
    const difference = definitionDifference(a, b)!;
    expect(difference.source).toContain('KEY `x` (`wait`)');
    expect(difference.source.length).toBe(a.split('\n').length);
    expect(difference.replica.length).toBe(b.split('\n').length);
  });

  it('counts repeated lines one for one', () => {
    expect(definitionDifference('a\nx\nx', 'a\nx')).toEqual({ source: ['x'], replica: [] });
  });
});
