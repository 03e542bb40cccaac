/*
 * A submission for lesson 01 that does not compile: grading must count
 * every test of the lesson as failed (score 0), not skip the lesson.
 */
int main(void)
{
	return undeclared_variable;
}
