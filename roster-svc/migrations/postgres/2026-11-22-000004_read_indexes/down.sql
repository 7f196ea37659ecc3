DROP INDEX classes_title;
DROP INDEX people_name;
